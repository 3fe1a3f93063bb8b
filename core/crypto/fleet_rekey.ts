/**
 * `tcfs store rekey`: a new key epoch for the devices approved now, and a namespace's whole
 * journal and content sealed again with it, so that data sealed with older epochs (which a
 * revoked device may hold the keys of) can be deleted. It costs a full re-upload of the
 * namespace's content.
 *
 * The chunk-id key stays the same: it derives from the keychain's `id_root` epoch, and changing
 * it would change every chunk id, and with them every version and pack. So a revoked device can
 * still tell whether the store holds a chunk it knows, but can open nothing sealed from now on.
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import { deviceKeychainAccess, type KeyHolder } from "./device_keys.ts";
import { nextEpoch } from "./fleet_keychain.ts";
import { writeKeychain } from "./keychain_store.ts";
import { fleetKeysOf } from "./fleet_keys.ts";
import { isNamespaceSealed } from "./namespace_sealing.ts";
import { sealSettleMs } from "./namespace_encryption.ts";
import { resealNamespace, type ResealReport } from "./namespace_resealing.ts";
import { TcfsError } from "../errors.ts";

/** What a rekey did. */
export interface RekeyReport {
  namespace: string;
  /** The epoch before, and the new one everything is sealed with now. */
  from_epoch: number;
  epoch: number;
  reseal: ResealReport;
}

/**
 * Starts a new epoch and reseals `ctx`'s namespace (journal and packs) with it.
 *
 * @throws {TcfsError} `not_encrypted` when the namespace is plaintext; `not_approved` when this
 *   device holds no fleet key; `store_busy` when another device started the same epoch.
 *
 * @example
 * ```ts
 * const report = await rekeyNamespace(ctx, holder, { minAgeMs: 0 });
 * report.epoch; // 3
 * ```
 */
export async function rekeyNamespace(
  ctx: SyncContext,
  holder: KeyHolder,
  options: { minAgeMs: number },
): Promise<RekeyReport> {
  if (!await isNamespaceSealed(ctx.store, ctx.state, ctx.namespace)) {
    throw new TcfsError(
      `namespace ${ctx.namespace} is not end-to-end encrypted: nothing to rekey`,
      {
        kind: "not_encrypted",
        hint: "run `tcfs store encrypt` first",
      },
    );
  }
  const before = await deviceKeychainAccess(ctx.store, ctx.state, holder);
  if (before.state !== "approved") {
    throw new TcfsError(`this device (${holder.name}) holds no fleet key, so it cannot rekey`, {
      kind: "not_approved",
      hint: `run \`tcfs device approve ${holder.name}\` on an approved device, or rekey from one`,
    });
  }
  const { keychain } = before.stored;
  if (!await writeKeychain(ctx.store, nextEpoch(keychain, holder.id, () => true))) {
    throw new TcfsError(`another device started key epoch ${keychain.epoch + 1} meanwhile`, {
      kind: "store_busy",
      hint: "run `tcfs store rekey` again: it starts the epoch after that one",
    });
  }
  // Read back through the usual checks, which also record the new epoch as seen.
  const after = await deviceKeychainAccess(ctx.store, ctx.state, holder);
  if (after.state !== "approved") throw new Error("unreachable: this device wrote the keychain");
  const keys = await fleetKeysOf(after.stored.keychain);
  // Devices pick the new epoch up at their next look at the keychains; what they seal with the
  // old one meanwhile is sealed again below, if it has landed by then.
  await new Promise((resolve) => setTimeout(resolve, sealSettleMs()));
  const reseal = await resealNamespace({ ...ctx, keys }, keys, {
    command: "tcfs store rekey",
    packs: "older_epochs",
    minAgeMs: options.minAgeMs,
  });
  return { namespace: ctx.namespace, from_epoch: keychain.epoch, epoch: keys.epoch, reseal };
}
