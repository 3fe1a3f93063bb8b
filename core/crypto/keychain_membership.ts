/**
 * Who the fleet keychain is wrapped to: `tcfs device approve` adds a device to the current
 * epoch, `tcfs device revoke` starts an epoch without it. Both are made by an approved device,
 * with its own age identity.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import { nextEpoch, withRecipient } from "./fleet_keychain.ts";
import { type KeychainUpdate, updateKeychain } from "./keychain_update.ts";
import { deviceKeychainAccess, type KeyHolder } from "./device_keys.ts";
import { TcfsError } from "../errors.ts";

/** The device being approved: its id and its registered age recipient. */
export interface KeyMember {
  id: string;
  name: string;
  age_public_key: string;
}

/**
 * Wraps the current epoch to `member` as well; `unchanged` when it already is (with the same
 * recipient), `none` when the fleet has no keychain.
 *
 * @throws {TcfsError} `not_approved` when `holder` cannot open the newest keychain.
 *
 * @example
 * ```ts
 * const update = await approveDevice(store, state, me, laptopRecord);
 * ```
 */
export function approveDevice(
  store: ObjectStore,
  state: StateDb,
  holder: KeyHolder,
  member: KeyMember,
): Promise<KeychainUpdate> {
  return updateKeychain(
    store,
    () => deviceKeychainAccess(store, state, holder),
    (keychain) =>
      keychain.recipients[member.id] === member.age_public_key
        ? undefined
        : withRecipient(keychain, holder.id, member.id, member.age_public_key),
    (epoch) => cannotChange(holder, epoch, `approve ${member.name}`),
  );
}

/**
 * Starts the next epoch wrapped to every approved device but `deviceId`; `unchanged` when the
 * newest keychain is not wrapped to it (never approved, or another device revoked it first),
 * `none` when the fleet has no keychain.
 *
 * @throws {TcfsError} `not_approved` when `holder` cannot open the newest keychain.
 *
 * @example
 * ```ts
 * const update = await startEpochWithout(store, state, me, lost.id, lost.name);
 * ```
 */
export function startEpochWithout(
  store: ObjectStore,
  state: StateDb,
  holder: KeyHolder,
  deviceId: string,
  deviceName: string,
): Promise<KeychainUpdate> {
  return updateKeychain(
    store,
    () => deviceKeychainAccess(store, state, holder),
    (keychain) =>
      keychain.recipients[deviceId] === undefined
        ? undefined
        : nextEpoch(keychain, holder.id, (id) => id !== deviceId),
    (epoch) => cannotChange(holder, epoch, `revoke ${deviceName}`),
  );
}

function cannotChange(holder: KeyHolder, epoch: number, command: string): TcfsError {
  return new TcfsError(
    `this device (${holder.name}) is not approved for key epoch ${epoch}, so it cannot change ` +
      "who holds the fleet's keys",
    {
      kind: "not_approved",
      hint: `run \`tcfs device ${command}\` on an approved device (see \`tcfs device list\`)`,
    },
  );
}
