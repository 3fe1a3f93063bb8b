/**
 * The fleet keys this device holds, from the newest keychain its age identity opens; and the
 * step every command and the daemon take before syncing a namespace: no keys for a plaintext
 * namespace, the keys or a clear refusal for a sealed one.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import { readFirstIdentity } from "../device/device_age_key.ts";
import {
  type KeychainAccess,
  newestKeychainEpoch,
  openKeychainFile,
  readKeychain,
} from "./keychain_store.ts";
import { isStoreUnreachable } from "../store/store_unreachable.ts";
import { decodeBase64, encodeBase64 } from "../encoding/base64.ts";
import { type FleetKeys, fleetKeysOf } from "./fleet_keys.ts";
import { isNamespaceSealed } from "./namespace_sealing.ts";
import { fileUnderStore } from "../state/store_filing.ts";
import { blake3Hex } from "../hashing/blake3.ts";
import { TcfsError } from "../errors.ts";

/** Who is asking: this device, and where its age identity lives. */
export interface KeyHolder {
  id: string;
  name: string;
  /** The age key file (`config.paths.ageKeyFile`). */
  ageKeyFile: string;
}

/**
 * What the store's keychains are to this device, remembering the newest epoch it has seen so
 * that a store cannot roll it back to an older one.
 *
 * @example
 * ```ts
 * const access = await deviceKeychainAccess(store, state, holder);
 * access.state; // "approved"
 * ```
 */
export async function deviceKeychainAccess(
  store: ObjectStore,
  state: StateDb | undefined,
  holder: KeyHolder,
): Promise<KeychainAccess> {
  const own = await readFirstIdentity(holder.ageKeyFile);
  if (!own) {
    if (await newestKeychainEpoch(store) === undefined) return { state: "none" };
    throw new TcfsError(`this device has no age key at ${holder.ageKeyFile}`, {
      kind: "not_approved",
      hint: "run `tcfs device enroll` to make one, then `tcfs device approve " +
        `${holder.name}\` on an approved device`,
    });
  }
  const seenKey = fileUnderStore(store.location, "key_epoch");
  const seen = Number(state?.getMeta(seenKey) ?? 0);
  const keptKey = fileUnderStore(store.location, "keychain_file");
  let access: KeychainAccess;
  try {
    access = await readKeychain(store, own.identity, seen);
  } catch (err) {
    // Offline, the keychain read last opens what this device synced before (its mounts).
    const kept = isStoreUnreachable(err) ? state?.getMeta(keptKey) : undefined;
    if (kept === undefined) throw err;
    const body = decodeBase64(kept);
    const keychain = await openKeychainFile(body, own.identity, "the keychain kept offline");
    if (!keychain) throw err;
    return { state: "approved", stored: { keychain, etag: "", body } };
  }
  if (access.state !== "approved") return access;
  const kept = encodeBase64(access.stored.body);
  if (state && state.getMeta(keptKey) !== kept) state.setMeta(keptKey, kept);
  const { keychain } = access.stored;
  // A keychain rewritten in place (approvals do that) must keep every key this device has met:
  // whoever holds an old epoch's key could otherwise replace a newer epoch's key with their own.
  for (const [epoch, key] of Object.entries(keychain.keys)) {
    const printKey = fileUnderStore(store.location, `key_print:${epoch}`);
    const print = await blake3Hex(new TextEncoder().encode(`tcfs key print ${key}`));
    const known = state?.getMeta(printKey);
    if (known !== undefined && known !== print) {
      throw new TcfsError(
        `the fleet keychain holds a different key for epoch ${epoch} than this device used`,
        {
          kind: "keychain_invalid",
          hint: "someone replaced tcfs-meta/keys/ objects (a revoked device that still has the " +
            "bucket keys?); nothing was sealed with it. Rotate the bucket keys, restore " +
            "tcfs-meta/keys/ from a backup, and tell the fleet's owner",
        },
      );
    }
    if (known === undefined) state?.setMeta(printKey, print);
  }
  if (keychain.epoch > seen) state?.setMeta(seenKey, String(keychain.epoch));
  return access;
}

/**
 * The keys to sync `namespace` with: `undefined` when it is plaintext, the fleet's keys when
 * it is sealed and this device is approved.
 *
 * @throws {TcfsError} `not_approved` when the namespace is sealed and this device holds no key.
 *
 * @example
 * ```ts
 * const keys = await namespaceKeys(store, state, "default", holder);
 * ```
 */
export async function namespaceKeys(
  store: ObjectStore,
  state: StateDb | undefined,
  namespace: string,
  holder: KeyHolder,
): Promise<FleetKeys | undefined> {
  if (!await isNamespaceSealed(store, state, namespace)) return undefined;
  const access = await deviceKeychainAccess(store, state, holder);
  if (access.state === "approved") return await fleetKeysOf(access.stored.keychain);
  if (access.state === "none") {
    throw new TcfsError(
      `namespace ${namespace} is end-to-end encrypted, but the store holds no fleet keychain ` +
        "(tcfs-meta/keys/ is empty)",
      {
        kind: "keychain_invalid",
        hint: "the keychains were deleted; restore tcfs-meta/keys/ from a backup of the bucket",
      },
    );
  }
  throw notApproved(holder, namespace, access.epoch);
}

function notApproved(holder: KeyHolder, namespace: string, epoch: number): TcfsError {
  return new TcfsError(
    `this device (${holder.name}) is not approved to read namespace ${namespace}: ` +
      `it is end-to-end encrypted, and key epoch ${epoch} is not wrapped to this device's age key`,
    {
      kind: "not_approved",
      hint: `run \`tcfs device approve ${holder.name}\` on an approved device (or let its ` +
        "daemon do it with `tcfs device invite`), or `tcfs device enroll --recovery` with " +
        "the fleet's recovery passphrase",
    },
  );
}
