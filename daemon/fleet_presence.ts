/**
 * The daemon's place in the device registry: it records that this device is alive
 * (`last_seen`, at start and hourly), and keeps the list of revoked devices current, so their
 * later versions are ignored and a revoked daemon stops pushing.
 *
 * @module
 */

import { describeError } from "../core/errors.ts";
import { revokedDevices, touchLastSeen } from "../core/device/device_registry.ts";
import type { ObjectStore } from "../core/store/object_store.ts";
import type { DaemonLog } from "./daemon_log.ts";

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
  log: DaemonLog;
}

/** The registry as the daemon keeps track of it. */
export interface FleetPresence {
  /** Revoked devices (id → revoked_at), as last read. */
  revoked(): ReadonlyMap<string, string>;
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
 * const presence = startFleetPresence({ store, deviceId, checkEveryMs: () => 30_000, log });
 * await presence.ready;
 * const ctx = { ...base, revoked: presence.revoked() };
 * ```
 */
export function startFleetPresence(options: FleetPresenceOptions): FleetPresence {
  let revoked: ReadonlyMap<string, string> = new Map();
  let announcedRevocation = false;
  let stopped = false;
  let lastSeenAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const check = async () => {
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
    ready,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
