/**
 * The daemon's place in the device registry: it records that this device is alive
 * (`last_seen`, at start and hourly), and keeps the list of revoked devices current, so their
 * later versions are ignored and a revoked daemon stops pushing. It keeps the fleet keys of the
 * configured namespace current too, so a new key epoch (a revocation elsewhere) is taken up
 * without a restart.
 *
 * @module
 */

import { describeError, TcfsError } from "../core/errors.ts";
import { revokedDevicesKept, touchLastSeen } from "../core/device/device_registry.ts";
import type { StateDb } from "../core/state/state_db.ts";
import type { ObjectStore } from "../core/store/object_store.ts";
import type { DaemonLog } from "./daemon_log.ts";
import type { FleetKeys } from "../core/crypto/fleet_keys.ts";
import type { EncryptionStatus } from "./api/api_types.ts";

/** How often `last_seen` is refreshed. */
const LAST_SEEN_EVERY_MS = 3_600_000;
/** The revocation list is read at most this often, however short the poll interval. */
const MIN_REVOCATION_CHECK_MS = 30_000;

/** Options for {@linkcode startFleetPresence}. */
export interface FleetPresenceOptions {
  store(): ObjectStore;
  /** Where the revocation list is kept for when the store cannot be reached. */
  state: StateDb;
  deviceId(): string;
  /** How often to read the revocation list (the poll interval). */
  checkEveryMs(): number;
  /** The keys of the configured namespace (`namespaceKeys`): undefined when it is plaintext. */
  loadKeys(): Promise<FleetKeys | undefined>;
  /** The newest key epoch in the store (`newestKeychainEpoch`): one listing, no decryption. */
  newestEpoch(): Promise<number | undefined>;
  /**
   * Approves devices that claimed an invitation (`approveInvitedDevices`); returns their
   * names. Run every poll interval, without the registry's 30 s floor: someone is waiting.
   */
  approveInvited(): Promise<string[]>;
  log: DaemonLog;
}

/** The registry as the daemon keeps track of it. */
export interface FleetPresence {
  /** Revoked devices (id → revoked_at), as last read. */
  revoked(): ReadonlyMap<string, string>;
  /** The configured namespace's keys, as last read; undefined when plaintext or not approved. */
  keys(): FleetKeys | undefined;
  /**
   * Why the last reading of the keys failed (`not_approved` for a device not let in yet, the
   * store unreachable…); undefined once one succeeded. The keys last read stay in use.
   */
  keysFailure(): unknown;
  /** Whether the keys were read at least once (or failed to be). */
  keysRead(): boolean;
  /**
   * Reads the keys again now (a box named an epoch newer than the keys held, a device waits
   * to be approved) and returns them. Calls made while a reading runs share it.
   */
  refreshKeys(): Promise<FleetKeys | undefined>;
  /**
   * The keys to write with now: read again when the store holds a newer epoch than the keys
   * held (a revocation elsewhere must not wait for the next check to take effect), or when
   * none are held yet. Undefined for a plaintext namespace.
   *
   * @throws the reading's failure (`not_approved`…) when no keys are held.
   */
  currentKeys(): Promise<FleetKeys | undefined>;
  /** What `tcfs status` says about the configured namespace's encryption. */
  encryption(): EncryptionStatus;
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
 * const presence = startFleetPresence({
 *   store, deviceId, checkEveryMs: () => 30_000, loadKeys, newestEpoch, log,
 * });
 * await presence.ready;
 * const ctx = { ...base, revoked: presence.revoked() };
 * ```
 */
export function startFleetPresence(options: FleetPresenceOptions): FleetPresence {
  let revoked: ReadonlyMap<string, string> = new Map();
  let keys: FleetKeys | undefined;
  let keysFailure: unknown;
  let keysRead = false;
  let keysProblem = "";
  let reading: Promise<FleetKeys | undefined> | undefined;
  let announcedRevocation = false;
  let stopped = false;
  let lastSeenAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const readKeys = async () => {
    try {
      const next = await options.loadKeys();
      if (next && next.epoch !== keys?.epoch) {
        options.log("info", `holding the fleet keys up to epoch ${next.epoch}`);
      }
      keys = next;
      keysFailure = undefined;
      keysProblem = "";
    } catch (err) {
      keysFailure = err;
      // Said once per new problem: an unapproved device would otherwise repeat it every poll.
      const problem = describeError(err);
      if (problem !== keysProblem) options.log("error", problem);
      keysProblem = problem;
    } finally {
      keysRead = true;
    }
    return keys;
  };
  const refreshKeys = () => reading ??= readKeys().finally(() => reading = undefined);
  const check = async () => {
    await refreshKeys();
    try {
      revoked = await revokedDevicesKept(options.store(), options.state);
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
  let inviteTimer: ReturnType<typeof setTimeout> | undefined;
  const settleInvitations = async () => {
    try {
      for (const name of await options.approveInvited()) {
        options.log("info", `approved ${name}: it enrolled with an invitation from this fleet`);
      }
    } catch (err) {
      options.log("debug", `approving invited devices failed: ${describeError(err)}`);
    }
    if (stopped) return;
    inviteTimer = setTimeout(settleInvitations, options.checkEveryMs());
    Deno.unrefTimer(inviteTimer);
  };
  const ready = check().then(() => {
    schedule();
    void settleInvitations();
  });
  return {
    revoked: () => revoked,
    keys: () => keys,
    keysFailure: () => keysFailure,
    keysRead: () => keysRead,
    refreshKeys,
    async currentKeys() {
      if (!keysRead || keysFailure !== undefined) await refreshKeys();
      else if (keys && (await options.newestEpoch() ?? 0) > keys.epoch) await refreshKeys();
      if (!keys && keysFailure !== undefined) throw keysFailure;
      return keys;
    },
    encryption() {
      const epoch = keys ? { key_epoch: keys.epoch } : {};
      if (keysFailure instanceof TcfsError && keysFailure.kind === "not_approved") {
        return { state: "not_approved", ...epoch, error: describeError(keysFailure) };
      }
      if (keys) return { state: "on", ...epoch };
      if (keysFailure !== undefined) return { state: "unknown", error: describeError(keysFailure) };
      return { state: keysRead ? "off" : "unknown" };
    },
    ready,
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(inviteTimer);
    },
  };
}
