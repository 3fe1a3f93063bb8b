/**
 * Whether a namespace is sealed: `ns/<namespace>/encryption.json`, written once (If-None-Match)
 * by the device that turns encryption on, and never removed. It holds no secret; it tells every
 * device to seal what it writes there and to read only sealed journal objects.
 *
 * A device remembers in its state db that a namespace was sealed, so a store that deletes the
 * marker cannot talk it back into plaintext.
 *
 * @module
 */

import { isStoreUnreachable } from "../store/store_unreachable.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import { namespaceSealingKey } from "../remote/remote_keys.ts";
import { fileUnderStore } from "../state/store_filing.ts";
import { TcfsError } from "../errors.ts";

/** What the marker says. */
export interface NamespaceSealing {
  format: 1;
  /** The key epoch current when the namespace was sealed. */
  since_epoch: number;
  sealed_at: string;
  /** The device that sealed it. */
  sealed_by: string;
}

/**
 * True when `namespace` is sealed: its marker is in the store, or this device saw it before (all
 * there is to go on when the store cannot be reached).
 *
 * @throws {TcfsError} `keychain_rollback` when this device saw the namespace sealed and the
 *   marker is gone.
 *
 * @example
 * ```ts
 * if (await isNamespaceSealed(store, state, "default")) ctx.keys = await requireFleetKeys(…);
 * ```
 */
export async function isNamespaceSealed(
  store: ObjectStore,
  state: StateDb | undefined,
  namespace: string,
): Promise<boolean> {
  const remembered = fileUnderStore(store.location, `sealed:${namespace}`);
  let present: boolean;
  try {
    present = await store.has(namespaceSealingKey(namespace));
  } catch (err) {
    // Offline, the namespace is as this device last saw it; nothing can be written meanwhile.
    if (!isStoreUnreachable(err)) throw err;
    return state?.getMeta(remembered) !== undefined;
  }
  if (present) {
    if (state && state.getMeta(remembered) === undefined) state.setMeta(remembered, "1");
    return true;
  }
  if (state?.getMeta(remembered) !== undefined) {
    throw new TcfsError(
      `namespace ${namespace} was end-to-end encrypted, but its marker ` +
        `${namespaceSealingKey(namespace)} is gone from the store`,
      {
        kind: "keychain_rollback",
        hint: "someone removed it (or the bucket was restored from an old backup); nothing " +
          "was written. Run `tcfs store encrypt` from an approved device to put it back",
      },
    );
  }
  return false;
}

/**
 * Seals `namespace` from `epoch` on; false when it was sealed already.
 *
 * @example
 * ```ts
 * await markNamespaceSealed(store, "default", keys.epoch, me.id);
 * ```
 */
export function markNamespaceSealed(
  store: ObjectStore,
  namespace: string,
  epoch: number,
  by: string,
): Promise<boolean> {
  const marker: NamespaceSealing = {
    format: 1,
    since_epoch: epoch,
    sealed_at: new Date().toISOString(),
    sealed_by: by,
  };
  return store.putConditional(
    namespaceSealingKey(namespace),
    new TextEncoder().encode(JSON.stringify(marker)),
    { ifNoneMatch: "*" },
  );
}

/**
 * Throws `not_approved` when `namespace` is sealed: called by a writer that holds no keys just
 * before it would put plaintext into the store (a pack, a segment), since the namespace may
 * have been sealed after its context was made. One request, for plaintext namespaces only.
 *
 * @example
 * ```ts
 * if (!ctx.keys) await refuseIfSealed(ctx.store, ctx.state, ctx.namespace);
 * ```
 */
export async function refuseIfSealed(
  store: ObjectStore,
  state: StateDb | undefined,
  namespace: string,
): Promise<void> {
  if (!await isNamespaceSealed(store, state, namespace)) return;
  throw new TcfsError(
    `namespace ${namespace} is end-to-end encrypted, and this device holds no key`,
    {
      kind: "not_approved",
      hint: "nothing was written; run the command again (the daemon retries on its own), and if " +
        "this device is not approved yet, run `tcfs device approve <name>` on one that is",
    },
  );
}
