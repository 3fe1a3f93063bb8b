/**
 * Checkpoints: now and then a device writes its whole fold of a namespace (every head and
 * kept version, and per device the last segment in it), so that a new device reads one
 * checkpoint and the segments after it instead of every segment ever written.
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import { trackedNamespace } from "../sync/sync_context.ts";
import { checkpointKey, checkpointPrefix, parseCheckpointKey } from "../remote/remote_keys.ts";
import { TcfsError } from "../errors.ts";
import {
  type Checkpoint,
  decodeCheckpoint,
  encodeJournalObject,
  JOURNAL_FORMAT,
  MAX_CHECKPOINT_RAW_BYTES,
} from "./journal_codec.ts";
import { foldedNamespace, journalCursors } from "./folded_versions.ts";
import { crashPoint } from "../runtime/crash_point.ts";

/**
 * Segments folded in since the newest checkpoint before a device writes another: a new device
 * then replays at most about this many segments on top of the checkpoint it reads.
 */
export const CHECKPOINT_EVERY_SEGMENTS = 64;

/**
 * Writes a checkpoint of this device's fold when the newest one in the store lags it by
 * {@linkcode CHECKPOINT_EVERY_SEGMENTS} or more. Returns its key when it wrote one.
 *
 * @example
 * ```ts
 * await writeCheckpointIfDue(ctx); // after a push's last segment
 * ```
 */
export async function writeCheckpointIfDue(ctx: SyncContext): Promise<string | undefined> {
  const ns = trackedNamespace(ctx);
  const cursors = journalCursors(ctx.state, ns);
  const covered = [...cursors.values()].reduce((sum, seq) => sum + seq, 0);
  const seenKey = `journal_checkpointed:${ns}`;
  const seen = Number(ctx.state.getMeta(seenKey) ?? "0");
  if (covered - seen < CHECKPOINT_EVERY_SEGMENTS) return undefined;
  const newest = (await checkpointKeys(ctx)).at(-1);
  const newestCovered = newest ? parseCheckpointKey(newest)!.covered : 0;
  if (covered - newestCovered < CHECKPOINT_EVERY_SEGMENTS) {
    ctx.state.setMeta(seenKey, String(newestCovered));
    return undefined;
  }
  crashPoint("before-checkpoint");
  const versions = [...foldedNamespace(ctx.state, ns, () => true).values()]
    .flatMap((p) => [...p.heads, ...p.kept].map((v) => v.version));
  const checkpoint: Checkpoint = {
    journal: JOURNAL_FORMAT,
    namespace: ctx.namespace,
    author: ctx.device.id,
    written_at: new Date().toISOString(),
    cursors: Object.fromEntries(cursors),
    versions,
  };
  const key = checkpointKey(ctx.namespace, covered, ctx.device.id);
  await ctx.store.put(key, encodeJournalObject(checkpoint));
  ctx.state.setMeta(seenKey, String(covered));
  return key;
}

/**
 * The newest readable checkpoint of the namespace, or with `onlyBase` its base (the one its
 * marker names); undefined when there is none. A damaged checkpoint is skipped for the one
 * before it (its segments are still there to replay), and reported.
 *
 * Of the checkpoints that cover no segment, only `base` counts: any other is the base of an
 * upgrade whose marker lost the race, left until its writer removes it (or for good, if that
 * writer died), and it may lack old-layout versions that the winner's base holds and retired.
 *
 * @example
 * ```ts
 * const checkpoint = await newestCheckpoint(ctx, (err) => unreadable.push(err), marker.base);
 * ```
 */
export async function newestCheckpoint(
  ctx: SyncContext,
  onUnreadable: (err: TcfsError) => void,
  base: string | undefined,
  options: { onlyBase?: boolean } = {},
): Promise<Checkpoint | undefined> {
  const keys = options.onlyBase
    ? (base ? [base] : [])
    : (await checkpointKeys(ctx)).filter((key) =>
      key === base || parseCheckpointKey(key)!.covered > 0
    );
  for (const key of keys.reverse()) {
    const body = await ctx.store.get(key, { maxBytes: MAX_CHECKPOINT_RAW_BYTES });
    if (!body) continue;
    try {
      return await decodeCheckpoint(body, key);
    } catch (err) {
      if (!(err instanceof TcfsError) || err.kind !== "corrupt_journal") throw err;
      onUnreadable(err);
    }
  }
  return undefined;
}

/** Checkpoint keys, fewest segments covered first. */
async function checkpointKeys(ctx: SyncContext): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of ctx.store.list(checkpointPrefix(ctx.namespace))) {
    if (parseCheckpointKey(info.key)?.namespace === ctx.namespace) keys.push(info.key);
  }
  return keys;
}
