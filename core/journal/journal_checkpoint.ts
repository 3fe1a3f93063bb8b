/**
 * Checkpoints: now and then a device writes its whole fold of a namespace (every head, kept
 * and history version, and per device the last segment in it), so that a new device reads one
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
  encodeJournalPieces,
  JOURNAL_FORMAT,
  MAX_CHECKPOINT_RAW_BYTES,
} from "./journal_codec.ts";
import { everyFoldedBody, foldGeneration, journalCursors } from "./folded_versions.ts";
import { crashPoint } from "../runtime/crash_point.ts";
import { openCheckpoint, type OpenedCheckpoint } from "./checkpoint_reader.ts";
import { collectFully } from "../runtime/full_collection.ts";

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
  const seenKey = `journal_checkpointed:${ns}`;
  const covered = coveredBy(journalCursors(ctx.state, ns));
  const seen = Number(ctx.state.getMeta(seenKey) ?? "0");
  if (covered - seen < checkpointEvery()) return undefined;
  const newest = (await checkpointKeys(ctx)).at(-1);
  const newestCovered = newest ? parseCheckpointKey(newest)!.covered : 0;
  if (covered - newestCovered < checkpointEvery()) {
    ctx.state.setMeta(seenKey, String(newestCovered));
    return undefined;
  }
  crashPoint("before-checkpoint");
  // One checkpoint at a time per state db: their passes share one prepared statement.
  if (writingCheckpoint.has(ctx.state)) return undefined;
  writingCheckpoint.add(ctx.state);
  try {
    const key = await writeCheckpoint(ctx, ns);
    if (key) ctx.state.setMeta(seenKey, String(parseCheckpointKey(key)!.covered));
    return key;
  } finally {
    writingCheckpoint.delete(ctx.state);
  }
}

const writingCheckpoint = new WeakSet<object>();

/**
 * Writes a checkpoint of the fold of `ns` as it is now; undefined when the fold moved while
 * it was being written (the next push writes one).
 */
async function writeCheckpoint(ctx: SyncContext, ns: string): Promise<string | undefined> {
  // What the caller did before (a push's files) is garbage by now, and a checkpoint reads the
  // whole fold: collected here rather than by the caller, which mostly finds none due.
  collectFully();
  const cursors = journalCursors(ctx.state, ns);
  const generation = foldGeneration(ctx.state, ns);
  const unmoved = () =>
    foldGeneration(ctx.state, ns) === generation &&
    coveredBy(journalCursors(ctx.state, ns)) === coveredBy(cursors);
  // The versions' stored JSON goes in as it is: parsed, every version of the namespace would
  // be held at once as objects, several times its bytes.
  const checkpoint: Checkpoint = {
    journal: JOURNAL_FORMAT,
    namespace: ctx.namespace,
    author: ctx.device.id,
    written_at: new Date().toISOString(),
    cursors: Object.fromEntries(cursors),
    revoked: Object.fromEntries(ctx.revoked ?? []),
    ...(foldFloor(ctx) ? { floor: foldFloor(ctx) } : {}),
    versions: [],
  };
  const json = new TextEncoder().encode(JSON.stringify(checkpoint));
  const items = () => everyFoldedBody(ctx.state, ns);
  // Read twice, the first time for the size the compressed frame records. The versions are read
  // as they are compressed, with awaits between: the fold must not have moved by the end, for
  // the checkpoint to be the fold its cursors say.
  const size = sizeWithItems(json, items());
  // The first pass read every version's bytes (some 60 MB at 100,000 files), garbage now that
  // V8 counts outside its heap and would let the second pass add to.
  collectFully();
  const key = checkpointKey(ctx.namespace, coveredBy(cursors), ctx.device.id);
  let body;
  try {
    body = await encodeJournalPieces(withItems(json, items()), size, key, ctx.keys);
  } catch (err) {
    if (!unmoved()) return undefined;
    throw err;
  }
  if (!unmoved()) return undefined;
  await ctx.store.put(key, body);
  return key;
}

const COMMA = new TextEncoder().encode(",");

/** Bytes of the text {@linkcode withItems} yields for `json` and `items`. */
function sizeWithItems(json: Uint8Array, items: Iterable<Uint8Array>): number {
  let size = json.length;
  let count = 0;
  for (const item of items) {
    size += item.length;
    count++;
  }
  return size + Math.max(count - 1, 0) * COMMA.length;
}

/** Bytes of the text handed to the compressor at a time. */
const PIECE_BYTES = 1024 * 1024;

/**
 * The text of `json`, an object whose last field is an empty array, with `items` (JSON texts)
 * in that array, in pieces of about {@linkcode PIECE_BYTES}: a namespace's versions are never
 * held as one text (60 MB at 100,000 files).
 */
function* withItems(json: Uint8Array, items: Iterable<Uint8Array>): Generator<Uint8Array> {
  let piece = new Uint8Array(PIECE_BYTES);
  let length = 0;
  function* append(bytes: Uint8Array): Generator<Uint8Array> {
    if (length + bytes.length > piece.length && length > 0) {
      yield piece.subarray(0, length);
      // The compressor may still hold the piece it was given: the next one is new memory.
      piece = new Uint8Array(Math.max(PIECE_BYTES, bytes.length));
      length = 0;
    }
    if (bytes.length > piece.length) piece = new Uint8Array(bytes.length);
    piece.set(bytes, length);
    length += bytes.length;
  }
  yield* append(json.subarray(0, json.length - 2));
  let first = true;
  for (const item of items) {
    if (!first) yield* append(COMMA);
    yield* append(item);
    first = false;
  }
  yield* append(json.subarray(json.length - 2)); // "]}"
  yield piece.subarray(0, length);
}

/** Segments between checkpoints; `TCFS_CHECKPOINT_EVERY` may lower it (tests, tiny fleets). */
function checkpointEvery(): number {
  const set = Number(Deno.env.get("TCFS_CHECKPOINT_EVERY"));
  return Number.isSafeInteger(set) && set > 0 ? set : CHECKPOINT_EVERY_SEGMENTS;
}

/**
 * How many segments `cursors` cover in all: what a checkpoint's key says.
 *
 * @example
 * ```ts
 * coveredBy(new Map([["a", 3], ["b", 4]])); // 7
 * ```
 */
export function coveredBy(cursors: ReadonlyMap<string, number> | Record<string, number>): number {
  const seqs = cursors instanceof Map ? [...cursors.values()] : Object.values(cursors);
  return seqs.reduce((sum, seq) => sum + seq, 0);
}

/**
 * The checkpoints a device that has folded nothing may start from, among `keys` (the
 * namespace's checkpoints, {@linkcode checkpointKeys}), best first, opened one at a time as
 * the caller goes: it starts from the first whose versions all read, and goes on to the next
 * when one of them turns out damaged. A damaged or oversized checkpoint found while opening it
 * is reported and skipped for the one before it.
 *
 * Once gc has pruned the namespace, its newest pruning checkpoint (`floor`) is the ground: the
 * segments it covers may be gone. A reader starts from the newest checkpoint made on that
 * floor under the same revocations as `ctx.revoked`, else from the floor itself. Before any
 * gc, it starts from the newest checkpoint made under the same revocations, else from the
 * namespace's base (the one its marker names), which holds every version from before the
 * journal and serves whatever the revocations.
 *
 * A checkpoint made under other revocations may hold a head that a version now excluded
 * superseded, or lack one it pushed out, so it is no start. Of the checkpoints that cover no
 * segment, only the base counts: any other is the base of an upgrade whose marker lost the
 * race, and may lack old-layout versions that the winner's base holds and retired.
 *
 * @example
 * ```ts
 * const keys = await checkpointKeys(ctx);
 * for await (const start of startingCheckpoints(ctx, keys, report, marker.base)) {
 *   for (const versions of start.slices()) count += versions.length;
 *   break;
 * }
 * ```
 */
export async function* startingCheckpoints(
  ctx: SyncContext,
  keys: readonly string[],
  onUnreadable: (err: TcfsError) => void,
  base: string | undefined,
): AsyncGenerator<OpenedCheckpoint> {
  const floor = newestFloor(keys);
  const floorCovered = floor ? parseCheckpointKey(floor)!.covered : 0;
  const candidates = keys.filter((key) => {
    const parsed = parseCheckpointKey(key)!;
    if (floor) {
      return key === floor || (parsed.generation === undefined && parsed.covered >= floorCovered);
    }
    return key === base || parsed.covered > 0;
  });
  const sameRevocations = (checkpoint: OpenedCheckpoint) =>
    revocationsKey(new Map(Object.entries(checkpoint.fields.revoked ?? {}))) ===
      revocationsKey(ctx.revoked);
  for (const key of candidates.reverse()) {
    let checkpoint;
    try {
      checkpoint = await readCheckpoint(ctx, key);
      if (!checkpoint) continue;
    } catch (err) {
      if (!isUnreadableObject(err)) throw err;
      onUnreadable(err);
      continue;
    }
    if (
      key === floor || (!floor && key === base) ||
      (checkpoint.fields.floor === floor && sameRevocations(checkpoint))
    ) yield checkpoint;
  }
}

/**
 * The checkpoint at `key` opened, or undefined when it is gone. Its stored bytes are let go on
 * return: the caller holds it while it folds, and they are another copy of its text.
 */
async function readCheckpoint(
  ctx: SyncContext,
  key: string,
): Promise<OpenedCheckpoint | undefined> {
  const body = await ctx.store.get(key, { maxBytes: MAX_CHECKPOINT_RAW_BYTES });
  return body && await openCheckpoint(body, key, ctx.keys);
}

/**
 * The namespace's floor among checkpoint `keys`: the pruning checkpoint of gc's latest run.
 *
 * @example
 * ```ts
 * const floor = newestFloor(await checkpointKeys(ctx));
 * ```
 */
export function newestFloor(keys: readonly string[]): string | undefined {
  let newest: { key: string; generation: number } | undefined;
  for (const key of keys) {
    const generation = parseCheckpointKey(key)?.generation;
    if (generation !== undefined && (!newest || generation > newest.generation)) {
      newest = { key, generation };
    }
  }
  return newest?.key;
}

/**
 * The floor this device's fold of the context's namespace started from ("" before any gc).
 *
 * @example
 * ```ts
 * if (foldFloor(ctx) !== newestFloor(keys)) forgetFolded(ctx.state, ns);
 * ```
 */
export function foldFloor(ctx: SyncContext): string {
  return ctx.state.getMeta(floorMetaKey(ctx)) ?? "";
}

/**
 * Records the floor this device's fold now starts from.
 *
 * @example
 * ```ts
 * setFoldFloor(ctx, floor ?? "");
 * ```
 */
export function setFoldFloor(ctx: SyncContext, floor: string): void {
  ctx.state.setMeta(floorMetaKey(ctx), floor);
}

function floorMetaKey(ctx: SyncContext): string {
  return `journal_floor:${trackedNamespace(ctx)}`;
}

/**
 * The revocations (device → revoked at) as one comparable string.
 *
 * @example
 * ```ts
 * revocationsKey(ctx.revoked) === revocationsKey(new Map(Object.entries(checkpoint.revoked)));
 * ```
 */
export function revocationsKey(revoked: ReadonlyMap<string, string> | undefined): string {
  return JSON.stringify([...(revoked ?? new Map())].sort());
}

/**
 * Whether `err` says one object from the store is damaged or too big, which a reader reports
 * and steps past instead of stopping.
 *
 * @example
 * ```ts
 * if (!isUnreadableObject(err)) throw err;
 * ```
 */
export function isUnreadableObject(err: unknown): err is TcfsError {
  return err instanceof TcfsError &&
    (err.kind === "corrupt_journal" || err.kind === "oversized_object");
}

/**
 * The namespace's checkpoint keys, fewest segments covered first.
 *
 * @example
 * ```ts
 * const newest = (await checkpointKeys(ctx)).at(-1);
 * ```
 */
export async function checkpointKeys(ctx: SyncContext): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of ctx.store.list(checkpointPrefix(ctx.namespace))) {
    if (parseCheckpointKey(info.key)?.namespace === ctx.namespace) keys.push(info.key);
  }
  return keys;
}
