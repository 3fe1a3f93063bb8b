/**
 * Which key epoch this device holds, for `tcfs creds status`, `tcfs doctor` and
 * `tcfs device list`: approved (and who else is), pending, or a fleet without a keychain.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import { deviceKeychainAccess, type KeyHolder } from "./device_keys.ts";
import { newestKeychainEpoch } from "./keychain_store.ts";
import { isNamespaceSealed } from "./namespace_sealing.ts";
import { TcfsError } from "../errors.ts";

/** This device's keys as `--json` shows them. */
export interface DeviceKeyStatus {
  /** `none`: the fleet has no keychain; `pending`: this device is not approved yet. */
  keychain: "none" | "approved" | "pending";
  /** The store's newest key epoch (the one this device holds when approved). */
  epoch: number | null;
  namespace: string;
  /** True when the namespace is end-to-end encrypted. */
  namespace_sealed: boolean;
  /** The ids of the devices approved for `epoch`, when this device can read the keychain. */
  approved_devices: string[] | null;
}

/**
 * Reads this device's key status for `namespace`.
 *
 * @throws {TcfsError} when a keychain is damaged or rolled back (`sealed_damaged`,
 *   `keychain_invalid`, `keychain_rollback`).
 *
 * @example
 * ```ts
 * const status = await deviceKeyStatus(store, state, holder, "default");
 * status.keychain; // "approved"
 * ```
 */
export async function deviceKeyStatus(
  store: ObjectStore,
  state: StateDb | undefined,
  holder: KeyHolder,
  namespace: string,
): Promise<DeviceKeyStatus> {
  const namespaceSealed = await isNamespaceSealed(store, state, namespace);
  const base = { namespace, namespace_sealed: namespaceSealed };
  let access;
  try {
    access = await deviceKeychainAccess(store, state, holder);
  } catch (err) {
    // A device without an age key is simply not approved.
    if (!(err instanceof TcfsError) || err.kind !== "not_approved") throw err;
    access = { state: "pending" as const, epoch: (await newestKeychainEpoch(store))! };
  }
  if (access.state === "none") {
    return { ...base, keychain: "none", epoch: null, approved_devices: null };
  }
  if (access.state === "pending") {
    return { ...base, keychain: "pending", epoch: access.epoch, approved_devices: null };
  }
  const { keychain } = access.stored;
  return {
    ...base,
    keychain: "approved",
    epoch: keychain.epoch,
    approved_devices: Object.keys(keychain.recipients),
  };
}

/**
 * One line for people: which epoch this device holds and what that means for the namespace.
 *
 * @example
 * ```ts
 * describeKeyStatus(status, "yoga"); // "approved for key epoch 2; namespace default is end-to-end encrypted"
 * ```
 */
export function describeKeyStatus(status: DeviceKeyStatus, deviceName: string): string {
  const ns = status.namespace_sealed
    ? `namespace ${status.namespace} is end-to-end encrypted`
    : `namespace ${status.namespace} is plaintext`;
  switch (status.keychain) {
    case "none":
      return `the fleet has no keychain (no key epoch); ${ns}`;
    case "approved":
      return `approved for key epoch ${status.epoch}; ${ns}`;
    case "pending":
      return `NOT approved for key epoch ${status.epoch} (run \`tcfs device approve ` +
        `${deviceName}\` on an approved device); ${ns}`;
  }
}
