/**
 * Read-modify-write of the newest fleet keychain: approving a device (same epoch, written over
 * the etag read) and starting an epoch (a new object, written only if absent). Another device
 * doing either meanwhile makes the write fail; the change is then made again on what it wrote.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { FleetKeychain } from "./fleet_keychain.ts";
import { type KeychainAccess, writeKeychain } from "./keychain_store.ts";
import { TcfsError } from "../errors.ts";

/** What an update found and did. */
export type KeychainUpdate =
  | { state: "none" }
  | { state: "unchanged" | "written"; keychain: FleetKeychain };

const ATTEMPTS = 5;

/**
 * Applies `change` to the newest keychain as `read` returns it, until the write wins.
 * `change` returns the keychain to write, or undefined when there is nothing to do; it may
 * run more than once. A rewrite of the same epoch replaces the etag read; a new epoch is
 * written only if no other device wrote that epoch first.
 *
 * @param read Reads the keychain with the identity that may change it.
 * @param refused The error when that identity cannot open the newest keychain (its epoch).
 * @throws {TcfsError} `refused(epoch)`; `registry_busy` when every attempt lost a race.
 *
 * @example
 * ```ts
 * await updateKeychain(store, () => deviceKeychainAccess(store, state, me), (k) =>
 *   withRecipient(k, me.id, laptop.id, laptop.age_public_key), notApprovedHere);
 * ```
 */
export async function updateKeychain(
  store: ObjectStore,
  read: () => Promise<KeychainAccess>,
  change: (keychain: FleetKeychain) => FleetKeychain | undefined,
  refused: (epoch: number) => TcfsError,
): Promise<KeychainUpdate> {
  for (let attempt = 1;; attempt++) {
    const access = await read();
    if (access.state === "none") return access;
    if (access.state === "pending") throw refused(access.epoch);
    const { keychain, etag } = access.stored;
    const next = change(keychain);
    if (!next) return { state: "unchanged", keychain };
    const replacing = next.epoch === keychain.epoch ? etag : undefined;
    if (await writeKeychain(store, next, replacing)) return { state: "written", keychain: next };
    if (attempt === ATTEMPTS) {
      throw new TcfsError("the fleet keychain kept changing while updating it", {
        kind: "registry_busy",
        hint: "other devices are approving or revoking right now; run the command again",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * attempt));
  }
}
