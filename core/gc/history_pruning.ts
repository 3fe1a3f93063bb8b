/**
 * gc's first stage: applies the retention policy to this device's fold of its namespace, and
 * once the content is settled ({@linkcode writeFloor}) makes what it keeps the namespace's new
 * floor: a pruning checkpoint that every reader refolds from, after which the segments and
 * checkpoints it covers go.
 *
 * @module
 */

import type { FileVersion } from "../remote/file_version.ts";
import { type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import { catchUp, journalDevices } from "../journal/journal_catch_up.ts";
import {
  everyFoldedVersion,
  foldIn,
  forgetFolded,
  journalCursors,
  storedVersion,
} from "../journal/folded_versions.ts";
import {
  checkpointKeys,
  coveredBy,
  newestFloor,
  setFoldFloor,
} from "../journal/journal_checkpoint.ts";
import { encodeJournalObject, JOURNAL_FORMAT } from "../journal/journal_codec.ts";
import {
  deviceJournalPrefix,
  parseCheckpointKey,
  parseSegmentKey,
  pruningCheckpointKey,
} from "../remote/remote_keys.ts";
import { retainedVersions, type RetentionPolicy } from "../history/retention_policy.ts";
import { TcfsError } from "../errors.ts";

/** What the policy keeps of a namespace, and up to which segments. */
export interface PrunedHistory {
  /** Per device, the last segment the fold holds: the floor covers these. */
  cursors: Map<string, number>;
  /** Every version kept: heads, and the history the policy keeps. */
  kept: FileVersion[];
  /** Versions the fold held before. */
  before: number;
  /** Journal objects that could not be read: their segments stay, uncovered. */
  unreadable: TcfsError[];
}

/**
 * Catches up, then applies `policy` at `now` to every path of the namespace.
 *
 * @example
 * ```ts
 * const pruned = await pruneHistory(ctx, { keepDays: 30, keepLast: 10, staggered: false }, new Date());
 * ```
 */
export async function pruneHistory(
  ctx: SyncContext,
  policy: RetentionPolicy,
  now: Date,
): Promise<PrunedHistory> {
  const unreadable = await catchUp(ctx);
  const ns = trackedNamespace(ctx);
  // Cursors and versions read with no await between: they describe one fold.
  const cursors = journalCursors(ctx.state, ns);
  const kept: FileVersion[] = [];
  let before = 0;
  for (
    const { heads, kept: deletionKept, history } of everyFoldedVersion(ctx.state, ns, () => true)
  ) {
    const candidates = [
      ...heads.map((v) => ({ ...v, head: true })),
      ...[...deletionKept, ...history].map((v) => ({ ...v, head: false })),
    ];
    before += candidates.length;
    for (const c of retainedVersions(candidates, policy, now)) kept.push(c.version);
  }
  return { cursors, kept, before, unreadable };
}

/**
 * Writes `pruned` as the namespace's new floor, refolds this device from it, and deletes the
 * journal objects it covers: segments up to its cursors (each device's newest stays, so no
 * number is ever written twice) and every older checkpoint. Returns the floor's key and how
 * many objects went.
 *
 * @example
 * ```ts
 * const { key } = await writeFloor(ctx, pruned, policy);
 * ```
 */
export async function writeFloor(
  ctx: SyncContext,
  pruned: PrunedHistory,
  policy: RetentionPolicy,
): Promise<{ key: string; deleted: number }> {
  const keys = await checkpointKeys(ctx);
  const previous = newestFloor(keys);
  const generation = (previous ? parseCheckpointKey(previous)!.generation! : 0) + 1;
  const covered = coveredBy(pruned.cursors);
  const key = pruningCheckpointKey(ctx.namespace, covered, ctx.device.id, generation);
  const body = await encodeJournalObject(
    {
      journal: JOURNAL_FORMAT,
      namespace: ctx.namespace,
      author: ctx.device.id,
      written_at: new Date().toISOString(),
      cursors: Object.fromEntries(pruned.cursors),
      revoked: Object.fromEntries(ctx.revoked ?? []),
      retention: {
        keep_days: policy.keepDays,
        keep_last: policy.keepLast,
        staggered: policy.staggered,
      },
      versions: pruned.kept,
    },
    key,
    ctx.keys,
  );
  if (!await ctx.store.putConditional(key, body, { ifNoneMatch: "*" })) {
    throw new TcfsError(`another gc wrote the floor ${key} at the same moment`, {
      kind: "store_busy",
      hint: "two gc runs overlapped (the lease expired?); run tcfs gc again",
    });
  }
  const ns = trackedNamespace(ctx);
  forgetFolded(ctx.state, ns);
  foldIn(
    ctx.state,
    ns,
    await Promise.all(pruned.kept.map((v) => storedVersion(ctx.namespace, v))),
    pruned.cursors,
  );
  setFoldFloor(ctx, key);
  let deleted = 0;
  for (const old of keys) {
    if (parseCheckpointKey(old)!.covered <= covered) {
      await ctx.store.delete(old);
      deleted++;
    }
  }
  for (const segment of await coveredSegments(ctx, pruned.cursors)) {
    await ctx.store.delete(segment);
    deleted++;
  }
  return { key, deleted };
}

/** Segments up to `cursors`, but for each device's newest one. */
async function coveredSegments(
  ctx: SyncContext,
  cursors: ReadonlyMap<string, number>,
): Promise<string[]> {
  const covered: string[] = [];
  for (const device of await journalDevices(ctx.store, ctx.namespace)) {
    const upTo = cursors.get(device);
    if (upTo === undefined) continue;
    const seqs: { key: string; seq: number }[] = [];
    for await (const info of ctx.store.list(deviceJournalPrefix(ctx.namespace, device))) {
      const parsed = parseSegmentKey(info.key);
      if (parsed) seqs.push({ key: info.key, seq: parsed.seq });
    }
    const newest = Math.max(...seqs.map((s) => s.seq));
    covered.push(...seqs.filter((s) => s.seq <= upTo && s.seq !== newest).map((s) => s.key));
  }
  return covered;
}
