/**
 * What enrolling does to the fleet's keys. The fleet's first device creates key epoch 1 (with
 * the recovery recipient chosen for the fleet); a later one is pending until an approved device
 * runs `tcfs device approve`; one that holds the recovery identity approves itself. A namespace
 * that holds nothing yet is sealed, so new enrollments encrypt by default.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import type { DeviceAgeIdentity } from "../device/device_age_key.ts";
import { namespacePrefix } from "../remote/remote_keys.ts";
import { firstKeychain, withRecipient } from "./fleet_keychain.ts";
import { newestKeychainEpoch, readKeychain, writeKeychain } from "./keychain_store.ts";
import { updateKeychain } from "./keychain_update.ts";
import { deviceKeychainAccess, type KeyHolder } from "./device_keys.ts";
import { isNamespaceSealed, markNamespaceSealed } from "./namespace_sealing.ts";
import {
  createRecoveryIdentity,
  storeRecoveryIdentity,
  writeRecoveryKeyFile,
} from "./recovery_identity.ts";
import { TcfsError } from "../errors.ts";

/** How the fleet's first device keeps the recovery identity. */
export type RecoveryChoice =
  | { kind: "passphrase"; passphrase: string }
  | { kind: "key_file"; path: string }
  | { kind: "none" };

/** What enrolling did to the keys, for the enrollment's summary. */
export interface EnrollmentKeys {
  /** `created`: this device started the fleet's keys; `none`: the fleet has no keychain. */
  keychain: "created" | "approved" | "pending" | "none";
  /** The newest key epoch, or null without a keychain. */
  epoch: number | null;
  /** How the recovery identity was kept, when this enrollment created the keychain. */
  recovery: RecoveryChoice["kind"] | null;
  /** The printed recovery key's file, when one was written. */
  recovery_key_file: string | null;
  namespace: { name: string; sealed: boolean; sealed_now: boolean };
}

/** What an enrollment asks for. */
export interface EnrollmentKeysRequest {
  holder: KeyHolder;
  /** This device's age recipient. */
  recipient: string;
  namespace: string;
  /** False (`--no-encrypt`): create no keychain and seal nothing. */
  encrypt: boolean;
  /** Used only when this device creates the fleet's first keychain. */
  recovery: RecoveryChoice;
}

/** How long a device that lost the race to store the recovery identity waits for the keychain. */
const FIRST_KEYCHAIN_WAIT_MS = 5000;

/**
 * Sets up this device's keys at enrollment: creates epoch 1 when the fleet has no keychain
 * (unless `encrypt` is false), reports approved or pending otherwise, and seals the namespace
 * when the fleet has a keychain and the namespace holds nothing yet.
 *
 * @throws {TcfsError} `recovery_failed` when a recovery identity from an interrupted first
 *   enrollment is in the way, or the recovery key file exists.
 *
 * @example
 * ```ts
 * const keys = await enrollDeviceKeys(store, state, { holder, recipient, namespace: "default",
 *   encrypt: true, recovery: { kind: "passphrase", passphrase } });
 * keys.keychain; // "created"
 * ```
 */
export async function enrollDeviceKeys(
  store: ObjectStore,
  state: StateDb,
  request: EnrollmentKeysRequest,
): Promise<EnrollmentKeys> {
  const { holder, namespace } = request;
  let access = await deviceKeychainAccess(store, state, holder);
  let created: { recovery: RecoveryChoice } | undefined;
  if (access.state === "none" && request.encrypt) {
    created = await createFirstKeychain(store, request)
      ? { recovery: request.recovery }
      : undefined;
    access = await deviceKeychainAccess(store, state, holder);
  }
  const epoch = access.state === "none"
    ? null
    : access.state === "pending"
    ? access.epoch
    : access.stored.keychain.epoch;
  let sealed = await isNamespaceSealed(store, state, namespace);
  let sealedNow = false;
  if (!sealed && request.encrypt && epoch !== null && await namespaceIsEmpty(store, namespace)) {
    sealedNow = await markNamespaceSealed(store, namespace, epoch, holder.id);
    sealed = await isNamespaceSealed(store, state, namespace);
  }
  return {
    keychain: created ? "created" : access.state,
    epoch,
    recovery: created?.recovery.kind ?? null,
    recovery_key_file: created?.recovery.kind === "key_file" ? created.recovery.path : null,
    namespace: { name: namespace, sealed, sealed_now: sealedNow },
  };
}

/**
 * Approves this device with the fleet's recovery identity: adds its recipient to the newest
 * keychain, which `recovery` opens.
 *
 * @returns The newest epoch, which this device now holds.
 * @throws {TcfsError} `recovery_failed` when the store has no keychain or the recovery identity
 *   does not open the newest one.
 *
 * @example
 * ```ts
 * await recoverDeviceKeys(store, state, holder, myRecipient, await openRecoveryIdentity(store, pass));
 * ```
 */
export async function recoverDeviceKeys(
  store: ObjectStore,
  state: StateDb,
  holder: KeyHolder,
  recipient: string,
  recovery: DeviceAgeIdentity,
): Promise<number> {
  const update = await updateKeychain(
    store,
    () => readKeychain(store, recovery.identity),
    (keychain) =>
      keychain.recipients[holder.id] === recipient
        ? undefined
        : withRecipient(keychain, holder.id, holder.id, recipient),
    (epoch) =>
      new TcfsError(`the recovery key does not open the fleet keychain of epoch ${epoch}`, {
        kind: "recovery_failed",
        hint: "it belongs to another fleet, or the newest keychain was written without the " +
          "recovery recipient; approve this device from an approved one with " +
          `\`tcfs device approve ${holder.name}\``,
      }),
  );
  if (update.state === "none") {
    throw new TcfsError("the store holds no fleet keychain: there is nothing to recover", {
      kind: "recovery_failed",
      hint: "enroll without --recovery: this device then starts the fleet's keys",
    });
  }
  // Records the epoch as seen, so this store cannot roll this device back from now on.
  await deviceKeychainAccess(store, state, holder);
  return update.keychain.epoch;
}

/** Writes epoch 1 with the chosen recovery; false when another device wrote it first. */
async function createFirstKeychain(
  store: ObjectStore,
  request: EnrollmentKeysRequest,
): Promise<boolean> {
  const { holder, recovery } = request;
  let recoveryRecipient: string | undefined;
  if (recovery.kind !== "none") {
    const identity = await createRecoveryIdentity();
    recoveryRecipient = identity.recipient;
    if (recovery.kind === "key_file") {
      await writeRecoveryKeyFile(recovery.path, identity);
    } else if (!await storeRecoveryIdentity(store, identity, recovery.passphrase)) {
      // Another first device stored its recovery identity a moment ago; its keychain follows.
      if (await keychainAppears(store)) return false;
      throw staleRecovery();
    }
  }
  const keychain = firstKeychain(holder.id, request.recipient, recoveryRecipient);
  if (await writeKeychain(store, keychain)) return true;
  if (recovery.kind === "key_file") await Deno.remove(recovery.path);
  return false;
}

async function keychainAppears(store: ObjectStore): Promise<boolean> {
  const deadline = Date.now() + FIRST_KEYCHAIN_WAIT_MS;
  while (Date.now() < deadline) {
    if (await newestKeychainEpoch(store) !== undefined) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function namespaceIsEmpty(store: ObjectStore, namespace: string): Promise<boolean> {
  for await (const _ of store.list(namespacePrefix(namespace))) return false;
  return true;
}

function staleRecovery(): TcfsError {
  return new TcfsError(
    "the store holds a recovery identity (tcfs-meta/keys/recovery) but no fleet keychain",
    {
      kind: "recovery_failed",
      hint: "an earlier first enrollment was interrupted; delete tcfs-meta/keys/recovery from " +
        "the bucket and enroll again",
    },
  );
}
