/**
 * Turning end-to-end encryption on for a namespace that was plaintext (`tcfs store encrypt`):
 * the keys to seal with (the fleet's first keychain when it has none), the namespace's marker
 * (from then on every device seals what it writes there), a short wait for a plaintext writer
 * that looked at the marker just before it was written, then the reseal
 * (`namespace_resealing.ts`): every version in a sealed floor, no journal object left in
 * plaintext, and on request the packs copied sealed.
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import { deviceKeychainAccess, type KeyHolder } from "./device_keys.ts";
import { firstKeychain } from "./fleet_keychain.ts";
import { writeKeychain } from "./keychain_store.ts";
import { type FleetKeys, fleetKeysOf } from "./fleet_keys.ts";
import { isNamespaceSealed, markNamespaceSealed } from "./namespace_sealing.ts";
import {
  journalObjectsSealedBefore,
  type PackRewrite,
  resealNamespace,
  type ResealReport,
} from "./namespace_resealing.ts";
import { readFirstIdentity } from "../device/device_age_key.ts";
import { TcfsError } from "../errors.ts";

/** How `tcfs store encrypt` runs. */
export interface EncryptOptions {
  /** Also copy the packs that hold plaintext content sealed. */
  rewrite: boolean;
  /** How long a replaced pack stays condemned before it is deleted; 0 deletes at once. */
  minAgeMs: number;
  /** Who runs it, and where its age identity is. */
  holder: KeyHolder;
}

/** What `tcfs store encrypt` did. */
export interface EncryptReport {
  namespace: string;
  /** The key epoch new data is sealed with. */
  epoch: number;
  /** The fleet had no keychain: this run made epoch 1, without a recovery recipient. */
  created_keychain: boolean;
  /** The namespace was sealed, with no plaintext journal object, before this run. */
  already_sealed: boolean;
  /** The reseal, unless the namespace was already sealed and no rewrite was asked for. */
  reseal?: ResealReport;
}

/** The default wait after the marker: far longer than a plaintext writer's last step. */
const SETTLE_MS = 5_000;

/**
 * How long `tcfs store encrypt` waits after writing the marker: a plaintext writer looks at it
 * just before each segment, and a segment it was writing then has landed by the end of the
 * wait. `TCFS_SEAL_SETTLE_MS` may lower it (tests).
 *
 * @example
 * ```ts
 * await new Promise((resolve) => setTimeout(resolve, sealSettleMs()));
 * ```
 */
export function sealSettleMs(): number {
  const set = Number(Deno.env.get("TCFS_SEAL_SETTLE_MS"));
  return Number.isSafeInteger(set) && set >= 0 && set < SETTLE_MS ? set : SETTLE_MS;
}

/**
 * Seals `ctx`'s namespace. Run again on a sealed namespace it does nothing, unless `rewrite`
 * asks for its plaintext packs, or a run before it stopped half way (then it finishes).
 *
 * @throws {TcfsError} `not_approved` when this device holds no fleet key; `gc_lease_held` when
 *   a gc runs; `corrupt_journal` when a journal object cannot be read.
 *
 * @example
 * ```ts
 * const report = await encryptNamespace(ctx, { rewrite: false, minAgeMs: 3600_000, holder });
 * ```
 */
export async function encryptNamespace(
  ctx: SyncContext,
  options: EncryptOptions,
): Promise<EncryptReport> {
  const { keys, created } = await sealingKeys(ctx.store, ctx.state, options.holder);
  const report: EncryptReport = {
    namespace: ctx.namespace,
    epoch: keys.epoch,
    created_keychain: created,
    already_sealed: false,
  };
  if (await isNamespaceSealed(ctx.store, ctx.state, ctx.namespace)) {
    report.already_sealed = !await hasPlaintextJournal(ctx.store, ctx.namespace);
    if (report.already_sealed && !options.rewrite) return report;
  } else {
    await markNamespaceSealed(ctx.store, ctx.namespace, keys.epoch, ctx.device.id);
    // Remembered from now on: a store that drops the marker cannot turn this device back.
    await isNamespaceSealed(ctx.store, ctx.state, ctx.namespace);
    await new Promise((resolve) => setTimeout(resolve, sealSettleMs()));
  }
  const packs: PackRewrite = options.rewrite ? "plaintext" : "none";
  report.reseal = await resealNamespace({ ...ctx, keys }, keys, {
    command: "tcfs store encrypt",
    packs,
    minAgeMs: options.minAgeMs,
  });
  return report;
}

/**
 * The keys this device seals with: the fleet's, or a first keychain (epoch 1) it makes when the
 * fleet has none.
 */
async function sealingKeys(
  store: ObjectStore,
  state: StateDb,
  holder: KeyHolder,
): Promise<{ keys: FleetKeys; created: boolean }> {
  let access = await deviceKeychainAccess(store, state, holder);
  let created = false;
  if (access.state === "none") {
    const own = await readFirstIdentity(holder.ageKeyFile);
    if (!own) {
      throw new TcfsError(`this device has no age key at ${holder.ageKeyFile}`, {
        kind: "not_approved",
        hint: "run `tcfs device enroll` to make one, then run this again",
      });
    }
    // Another device may create the first keychain at the same moment: then its stands.
    created = await writeKeychain(store, firstKeychain(holder.id, own.recipient, undefined));
    access = await deviceKeychainAccess(store, state, holder);
  }
  if (access.state !== "approved") {
    const epoch = access.state === "pending" ? access.epoch : "none";
    throw new TcfsError(
      `this device (${holder.name}) cannot seal: the fleet's key epoch ${epoch} is not ` +
        "wrapped to its age key",
      {
        kind: "not_approved",
        hint: `run \`tcfs device approve ${holder.name}\` on an approved device, then run ` +
          "this again (or run it on an approved device)",
      },
    );
  }
  return { keys: await fleetKeysOf(access.stored.keychain), created };
}

/** Whether any segment or checkpoint of `namespace` is still in plaintext. */
async function hasPlaintextJournal(store: ObjectStore, namespace: string): Promise<boolean> {
  const plaintext = await journalObjectsSealedBefore(store, namespace, 1);
  return plaintext.checkpoints.length + plaintext.segments.length > 0;
}
