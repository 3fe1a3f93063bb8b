/**
 * The daemon's place in the device registry: it records that this device is alive
 * (`last_seen`, at start and hourly), and keeps the list of revoked devices current, so their
 * later versions are ignored and a revoked daemon stops pushing. It keeps the fleet keys of the
 * configured namespace current too, so a new key epoch (a revocation elsewhere) is taken up
 * without a restart.
 *
 * @module
 */

import { describeError } from "../core/errors.ts";
import { revokedDevices, touchLastSeen } from "../core/device/device_registry.ts";
import type { ObjectStore } from "../core/store/object_store.ts";
import type { DaemonLog } from "./daemon_log.ts";
import type { FleetKeys } from "../core/crypto/fleet_keys.ts";

/** How often `last_seen` is refreshed. */
const LAST_SEEN_EVERY_MS = 3_600_000;
/** The revocation list is read at most this often, however short the poll interval. */
const MIN_REVOCATION_CHECK_MS = 30_000;

/** Options for {@linkcode startFleetPresence}. */
export interface FleetPresenceOptions {
  store(): ObjectStore;
  deviceId(): string;
  /** How often to read the revocation list (the poll interval). */
  checkEveryMs(): number;
  /** The keys of the configured namespace (`namespaceKeys`): undefined when it is plaintext. */
  loadKeys(): Promise<FleetKeys | undefined>;
  log: DaemonLog;
}

/** The registry as the daemon keeps track of it. */
export interface FleetPresence {
  /** Revoked devices (id → revoked_at), as last read. */
  revoked(): ReadonlyMap<string, string>;
  /** The configured namespace's keys, as last read; undefined when plaintext or not approved. */
  keys(): FleetKeys | undefined;
  /** Reads the keys again now (a box named an epoch newer than the keys held). */
  refreshKeys(): Promise<void>;
  /** Settles once the first reading is done (or has failed). */
  ready: Promise<void>;
  stop(): void;
}

/**
 * Reads the revocation list and touches `last_seen` now, then keeps both current in the
 * background. A store that can't be reached leaves the last known list in place.
 *
 * @example
 * ```ts
 * const presence = startFleetPresence({ store, deviceId, checkEveryMs: () => 30_000, loadKeys, log });
 * await presence.ready;
 * const ctx = { ...base, revoked: presence.revoked() };
 * ```
 */
export function startFleetPresence(options: FleetPresenceOptions): FleetPresence {
  let revoked: ReadonlyMap<string, string> = new Map();
  let keys: FleetKeys | undefined;
  let keysProblem = "";
  let announcedRevocation = false;
  let stopped = false;
  let lastSeenAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const refreshKeys = async () => {
    try {
      keys = await options.loadKeys();
      keysProblem = "";
    } catch (err) {
      // Said once per new problem: an unapproved device would otherwise repeat it every poll.
      const problem = describeError(err);
      if (problem !== keysProblem) options.log("error", problem);
      keysProblem = problem;
    }
  };
  const check = async () => {
    await refreshKeys();
    try {
      revoked = await revokedDevices(options.store());
      if (revoked.has(options.deviceId()) && !announcedRevocation) {
        announcedRevocation = true;
        options.log(
          "error",
          `this device (${options.deviceId()}) has been revoked: it no longer pushes; ` +
            "to rejoin as a new device remove ~/.config/tcfs/device.json and run " +
            "`tcfs device enroll`",
        );
      }
      if (Date.now() - lastSeenAt >= LAST_SEEN_EVERY_MS) {
        await touchLastSeen(options.store(), options.deviceId());
        lastSeenAt = Date.now();
      }
    } catch (err) {
      options.log("debug", `reading the device registry failed: ${describeError(err)}`);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      await check();
      schedule();
    }, Math.max(MIN_REVOCATION_CHECK_MS, options.checkEveryMs()));
    Deno.unrefTimer(timer);
  };
  const ready = check().then(schedule);
  return {
    revoked: () => revoked,
    keys: () => keys,
    refreshKeys,
    ready,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
