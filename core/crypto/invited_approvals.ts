/**
 * What an approved daemon does with invitations: approves each device that claimed one with the
 * right token (`device_invites.ts`), once the registry confirms it: the device is registered,
 * live, and registered with the age key its claim names.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import { deviceKeychainAccess, type KeyHolder } from "./device_keys.ts";
import { fleetKeysOf } from "./fleet_keys.ts";
import { INVITES_PREFIX, settleClaims } from "./device_invites.ts";
import { approveDevice } from "./keychain_membership.ts";
import { readDevice } from "../device/device_registry.ts";
import { isLiveDevice } from "../device/device_record.ts";

/**
 * Approves every device with a good claim; returns their names. Does nothing (and no request
 * past one listing) when there is no claim, and nothing at all unless `holder` is approved.
 *
 * @example
 * ```ts
 * for (const name of await approveInvitedDevices(store, state, me)) log("info", `approved ${name}`);
 * ```
 */
export async function approveInvitedDevices(
  store: ObjectStore,
  state: StateDb,
  holder: KeyHolder,
): Promise<string[]> {
  // The common case, every poll: no invitation out, one listing and nothing more.
  const first = await store.list(INVITES_PREFIX)[Symbol.asyncIterator]().next();
  if (first.done) return [];
  const access = await deviceKeychainAccess(store, state, holder);
  if (access.state !== "approved") return [];
  const keys = await fleetKeysOf(access.stored.keychain);
  const names: string[] = [];
  await settleClaims(store, keys, async (claim) => {
    const record = await readDevice(store, claim.device);
    if (!record || !isLiveDevice(record) || record.age_public_key !== claim.recipient) {
      return false;
    }
    await approveDevice(store, state, holder, record);
    names.push(record.name);
    return true;
  });
  return names;
}
