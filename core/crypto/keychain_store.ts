/**
 * Fleet keychains in the store: `tcfs-meta/keys/<epoch>`, each age-encrypted to every approved
 * device's recipient and the recovery recipient. A device reads the newest it can find, checks
 * that it extends the one before (so a store that can write cannot slip in keys of its own for
 * a device that held the older epoch), and never goes back to an older epoch than it has seen.
 *
 * @module
 */

import { Decrypter, Encrypter } from "age-encryption";
import type { ObjectStore } from "../store/object_store.ts";
import { KEYCHAIN_PREFIX, keychainKey, parseKeychainKey } from "../remote/remote_keys.ts";
import { extendsKeychain, type FleetKeychain, parseKeychain } from "./fleet_keychain.ts";
import { TcfsError } from "../errors.ts";

/** A keychain as read, with what a rewrite of it must match. */
export interface StoredKeychain {
  keychain: FleetKeychain;
  etag: string;
  /** The age file as stored, which a device keeps to open its keys offline. */
  body: Uint8Array;
}

/** What the store's keychains are to one device. */
export type KeychainAccess =
  | { state: "none" }
  | { state: "pending"; epoch: number }
  | { state: "approved"; stored: StoredKeychain };

/**
 * The newest epoch whose keychain is in the store, or `undefined` when the fleet has none.
 *
 * @example
 * ```ts
 * await newestKeychainEpoch(store); // 2
 * ```
 */
export async function newestKeychainEpoch(store: ObjectStore): Promise<number | undefined> {
  let newest: number | undefined;
  for await (const { key } of store.list(KEYCHAIN_PREFIX)) {
    const epoch = parseKeychainKey(key);
    if (epoch !== undefined && (newest === undefined || epoch > newest)) newest = epoch;
  }
  return newest;
}

/**
 * Reads the newest keychain with `identity` (an `AGE-SECRET-KEY-1…`). `seenEpoch`, the newest
 * epoch this device has met before, guards against a store that hides newer keychains.
 *
 * @throws {TcfsError} `keychain_rollback` when the store's newest is older than `seenEpoch`;
 *   `sealed_damaged` or `keychain_invalid` for a damaged keychain.
 *
 * @example
 * ```ts
 * const access = await readKeychain(store, identity, seenEpoch);
 * if (access.state === "approved") keys = await fleetKeysOf(access.stored.keychain);
 * ```
 */
export async function readKeychain(
  store: ObjectStore,
  identity: string,
  seenEpoch = 0,
): Promise<KeychainAccess> {
  const epoch = await newestKeychainEpoch(store);
  if (epoch === undefined && seenEpoch === 0) return { state: "none" };
  if (epoch === undefined || epoch < seenEpoch) {
    throw new TcfsError(
      `the store's newest fleet keychain is epoch ${epoch ?? "none"}, but this device has ` +
        `already used epoch ${seenEpoch}`,
      {
        kind: "keychain_rollback",
        hint: "someone removed newer keychains from tcfs-meta/keys/ (or the bucket was " +
          "restored from an old backup); nothing was written. Restore tcfs-meta/keys/, or " +
          "run `tcfs device revoke` of any lost device from an approved device to start a new epoch",
      },
    );
  }
  const newest = await openKeychain(store, epoch, identity);
  if (!newest) return { state: "pending", epoch };
  if (epoch > 1) {
    // Only a device that held the older epoch can tell a forged newer one; others trust it.
    const older = await openKeychain(store, epoch - 1, identity).catch(() => undefined);
    if (older && !extendsKeychain(newest.keychain, older.keychain)) {
      throw new TcfsError(
        `the fleet keychain of epoch ${epoch} does not carry the keys of epoch ${epoch - 1}`,
        {
          kind: "keychain_invalid",
          hint: "it was not written by a tcfs device of this fleet (a forged key epoch?); " +
            "nothing was sealed with it. Delete it from tcfs-meta/keys/ after checking, and " +
            "tell the fleet's owner",
        },
      );
    }
  }
  return { state: "approved", stored: newest };
}

/**
 * Opens epoch `epoch`'s keychain with `identity`; `undefined` when the keychain is not
 * encrypted to it.
 */
async function openKeychain(
  store: ObjectStore,
  epoch: number,
  identity: string,
): Promise<StoredKeychain | undefined> {
  const key = keychainKey(epoch);
  const found = await store.getWithEtag(key, { maxBytes: 1024 * 1024 });
  if (!found) return undefined;
  const keychain = await openKeychainFile(found.body, identity, key);
  return keychain && { keychain, etag: found.etag, body: found.body };
}

/**
 * Opens a keychain's age file (`body`, read from `key` or kept from there) with `identity`;
 * `undefined` when it is not encrypted to it.
 *
 * @example
 * ```ts
 * const keychain = await openKeychainFile(kept, identity, "tcfs-meta/keys/2");
 * ```
 */
export async function openKeychainFile(
  body: Uint8Array,
  identity: string,
  key: string,
): Promise<FleetKeychain | undefined> {
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  let plain: Uint8Array;
  try {
    plain = await decrypter.decrypt(body, "uint8array");
  } catch (err) {
    if ((err as Error).message.includes("no identity matched")) return undefined;
    throw new TcfsError(`the fleet keychain ${key} cannot be opened: ${(err as Error).message}`, {
      kind: "sealed_damaged",
      hint: "it was damaged or altered in the store; nothing was read from it. An approved " +
        "device can write a fresh one with `tcfs device approve` of any device",
      cause: err,
    });
  }
  return parseKeychain(plain, key);
}

/**
 * Writes `keychain` under its epoch's key, encrypted to its recipients and recovery recipient.
 * `replacing` (the etag read) makes the write conditional: false when another device changed
 * the keychain meanwhile. Without it, the write succeeds only if the epoch is new.
 *
 * @example
 * ```ts
 * if (!await writeKeychain(store, next)) throw new Error("another device started the epoch");
 * ```
 */
export async function writeKeychain(
  store: ObjectStore,
  keychain: FleetKeychain,
  replacing?: string,
): Promise<boolean> {
  const encrypter = new Encrypter();
  for (const recipient of Object.values(keychain.recipients)) encrypter.addRecipient(recipient);
  if (keychain.recovery_recipient) encrypter.addRecipient(keychain.recovery_recipient);
  const body = await encrypter.encrypt(new TextEncoder().encode(JSON.stringify(keychain)));
  return await store.putConditional(
    keychainKey(keychain.epoch),
    body,
    replacing === undefined ? { ifNoneMatch: "*" } : { ifMatch: replacing },
  );
}
