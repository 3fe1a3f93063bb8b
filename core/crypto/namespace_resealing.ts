/**
 * Resealing a namespace: what `tcfs store encrypt` and `tcfs store rekey` do once the keys to
 * seal with are settled. Under the gc lease, this device folds every version (plaintext and
 * sealed journal objects alike), writes them all as a new floor sealed with the current epoch,
 * and deletes the journal objects that floor covers, as gc does (`history_pruning.ts`). What
 * the floor leaves (each device's newest segment, segments written since the fold) is sealed
 * again in place, and checkpoints other than the floor are deleted: they are only shortcuts.
 *
 * Packs are shared by every namespace and hold the content, so they are rewritten only on
 * request: the packs the kept versions name that hold plaintext (or, for a rekey, an older
 * epoch) are copied sealed by gc's repack, and the originals go the way of any unreferenced
 * pack (`pack_sweep.ts`: condemned, then deleted by a later run, or at once with a minimum age
 * of 0). A pack another namespace still names stays as it is.
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import type { FleetKeys } from "./fleet_keys.ts";
import type { ObjectStore } from "../store/object_store.ts";
import { withGcLease } from "../gc/gc_lease.ts";
import { type PrunedHistory, pruneHistory, writeFloor } from "../gc/history_pruning.ts";
import { addReferences, emptyReferences, scanReferences } from "../gc/pack_references.ts";
import type { PackReferences } from "../gc/pack_references.ts";
import { repack } from "../gc/pack_repack.ts";
import { sweepObjects, type SweepResult } from "../gc/pack_sweep.ts";
import { forgetCondemnedViews } from "../gc/condemned_packs.ts";
import { KEEP_EVERY_VERSION } from "../history/retention_policy.ts";
import { contentObjectKey, contentObjectSizes } from "../remote/content_objects.ts";
import {
  checkpointPrefix,
  deviceJournalPrefix,
  PACKS_PREFIX,
  parseCheckpointKey,
  parseSegmentKey,
} from "../remote/remote_keys.ts";
import { journalDevices } from "../journal/journal_catch_up.ts";
import { decodeSegment, MAX_SEGMENT_RAW_BYTES } from "../journal/journal_codec.ts";
import { SEALED_HEAD_BYTES, sealedEpoch, sealStored, unsealStored } from "./sealed_object.ts";
import { TcfsError } from "../errors.ts";

/** Which packs a reseal rewrites. */
export type PackRewrite = "none" | "plaintext" | "older_epochs";

/** How a reseal runs. */
export interface ResealOptions {
  /** The command, named in messages (`tcfs store encrypt`). */
  command: string;
  packs: PackRewrite;
  /** How long a replaced pack stays condemned before it is deleted; 0 deletes at once. */
  minAgeMs: number;
  /** How long the gc lease lasts unless renewed. */
  leaseMs?: number;
}

/** What a reseal did. */
export interface ResealReport {
  /** The sealed floor written. */
  floor: string;
  /** Versions in it: every version of the namespace's history. */
  versions: number;
  /** Segments and checkpoints the floor covered, and checkpoints left unsealed, deleted. */
  journal_objects_deleted: number;
  /** Segments the floor does not cover, sealed again in place. */
  journal_objects_resealed: number;
  packs: {
    /** Packs copied sealed with the current epoch. */
    rewritten: number;
    bytes_before: number;
    bytes_after: number;
    /**
     * Objects the versions name that still hold plaintext (or an older epoch): all of them
     * when packs were not rewritten, else those another namespace names and stand-alone
     * chunks from before packs.
     */
    left: number;
  };
  /** The sweep of unreferenced objects, when packs were rewritten. */
  objects?: SweepResult;
}

/** The lease lasts far longer than a run, and is renewed between stages. */
const LEASE_MS = 30 * 60_000;

/**
 * Reseals `ctx`'s namespace with `keys` (their current epoch).
 *
 * @throws {TcfsError} `gc_lease_held` when a gc runs; `corrupt_journal` when a journal object
 *   cannot be read (nothing was deleted: its versions would be lost).
 *
 * @example
 * ```ts
 * const report = await resealNamespace(ctx, keys, { command: "tcfs store encrypt", packs: "none", minAgeMs: 0 });
 * ```
 */
export function resealNamespace(
  ctx: SyncContext,
  keys: FleetKeys,
  options: ResealOptions,
): Promise<ResealReport> {
  const reading: SyncContext = { ...ctx, keys: { ...keys, readsPlaintext: true } };
  const leaseMs = options.leaseMs ?? LEASE_MS;
  return withGcLease(ctx.store, ctx.device, leaseMs, options.command, async (stillOurs) => {
    const scanStart = new Date();
    // Listed before the fold: an object uploaded after it is no candidate for the sweep.
    const sizes = options.packs === "none"
      ? new Map<string, number>()
      : await contentObjectSizes(ctx.store);
    const pruned = await pruneHistory(reading, KEEP_EVERY_VERSION, scanStart);
    if (pruned.unreadable.length > 0) throw unreadable(options.command, pruned.unreadable[0]);
    const outdated = await outdatedObjects(ctx.store, keys.epoch, pruned, options.packs);
    const report: ResealReport = {
      floor: "",
      versions: pruned.kept.length,
      journal_objects_deleted: 0,
      journal_objects_resealed: 0,
      packs: { rewritten: 0, bytes_before: 0, bytes_after: 0, left: outdated.size },
    };
    let refs: PackReferences | undefined;
    if (options.packs !== "none") {
      refs = emptyReferences();
      const problems = await scanReferences(ctx.store, reading.keys, refs, {
        namespace: ctx.namespace,
        cursors: pruned.cursors,
      });
      if (problems.length > 0) {
        throw unreadable(options.command, new Error(`${problems[0].key}: ${problems[0].why}`));
      }
      for (const version of pruned.kept) addReferences(refs, version, false);
      const movable = [...outdated].filter((key) =>
        key.startsWith(PACKS_PREFIX) && !refs!.pinned.has(key)
      );
      await stillOurs();
      const moved = await repack(ctx.store, keys, movable, refs, pruned.kept, sizes);
      report.packs = {
        rewritten: moved.packs,
        bytes_before: moved.bytesBefore,
        bytes_after: moved.bytesAfter,
        left: outdated.size - moved.packs,
      };
    }
    await stillOurs();
    const floor = await writeFloor(reading, pruned, KEEP_EVERY_VERSION);
    report.floor = floor.key;
    report.journal_objects_deleted = floor.deleted;
    await stillOurs();
    const rest = await resealJournalRest(reading, keys);
    report.journal_objects_deleted += rest.deleted;
    report.journal_objects_resealed = rest.resealed;
    if (refs) {
      await stillOurs();
      forgetCondemnedViews();
      report.objects = await sweepObjects(ctx.store, refs, sizes, {
        scanStart,
        minAgeMs: options.minAgeMs,
        device: ctx.device.id,
        dryRun: false,
        log: (key, why) => ctx.log?.("warning", `${options.command} skips ${key}: ${why}`),
      });
    }
    return report;
  });
}

/**
 * The content objects `pruned`'s versions name that hold plaintext, or (for "older_epochs")
 * a box of an epoch before `epoch`. A pack is written whole by one writer, sealed or not, with
 * one epoch, so its first named chunk tells for all of it.
 */
async function outdatedObjects(
  store: ObjectStore,
  epoch: number,
  pruned: PrunedHistory,
  packs: PackRewrite,
): Promise<Set<string>> {
  const first = new Map<string, number>();
  for (const version of pruned.kept) {
    for (const ref of version.chunks) {
      const key = contentObjectKey(ref);
      if (!first.has(key)) first.set(key, ref.offset ?? 0);
    }
  }
  const outdated = new Set<string>();
  for (const [key, offset] of first) {
    const head = await store.getRange(key, offset, SEALED_HEAD_BYTES);
    if (!head) continue; // gone: `tcfs check` reports what that loses
    const sealedWith = sealedEpoch(head) ?? 0;
    if (sealedWith === 0 || (packs === "older_epochs" && sealedWith < epoch)) outdated.add(key);
  }
  return outdated;
}

/**
 * Seals again what the floor left of the namespace's journal: segments in plaintext or of an
 * older epoch are rewritten in place (same content, checked on the way); such checkpoints are
 * deleted.
 */
async function resealJournalRest(
  reading: SyncContext,
  keys: FleetKeys,
): Promise<{ resealed: number; deleted: number }> {
  const { store } = reading;
  const stale = await journalObjectsSealedBefore(store, reading.namespace, keys.epoch);
  for (const key of stale.checkpoints) await store.delete(key);
  for (const key of stale.segments) {
    const body = await store.get(key, { maxBytes: MAX_SEGMENT_RAW_BYTES + 1024 });
    if (!body) continue;
    await decodeSegment(body, key, reading.keys);
    const stored = await unsealStored(reading.keys, body, key);
    await store.put(key, await sealStored(keys, stored, key));
  }
  return { resealed: stale.segments.length, deleted: stale.checkpoints.length };
}

/**
 * The namespace's checkpoints and segments in plaintext or sealed with an epoch before
 * `epoch`: one request per object (its first bytes).
 *
 * @example
 * ```ts
 * const plaintext = await journalObjectsSealedBefore(store, "default", 1);
 * ```
 */
export async function journalObjectsSealedBefore(
  store: ObjectStore,
  namespace: string,
  epoch: number,
): Promise<{ checkpoints: string[]; segments: string[] }> {
  const stale = async (key: string) => {
    const head = await store.getRange(key, 0, SEALED_HEAD_BYTES);
    return head !== undefined && (sealedEpoch(head) ?? 0) < epoch;
  };
  const found = { checkpoints: [] as string[], segments: [] as string[] };
  for await (const info of store.list(checkpointPrefix(namespace))) {
    if (parseCheckpointKey(info.key)?.namespace === namespace && await stale(info.key)) {
      found.checkpoints.push(info.key);
    }
  }
  for (const device of await journalDevices(store, namespace)) {
    for await (const info of store.list(deviceJournalPrefix(namespace, device))) {
      if (parseSegmentKey(info.key) && await stale(info.key)) found.segments.push(info.key);
    }
  }
  return found;
}

function unreadable(command: string, err: Error): TcfsError {
  return new TcfsError(
    `${command} stopped before deleting anything: a journal object cannot be read ` +
      `(${err.message})`,
    {
      kind: "corrupt_journal",
      hint: "its versions would be lost in the new sealed floor; run `tcfs check` to see what " +
        `it affects, restore or remove it, then run ${command} again`,
    },
  );
}
