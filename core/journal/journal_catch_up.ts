/**
 * Catch-up: brings this device's fold of a namespace (`folded_versions.ts`) up to what the
 * store holds. It costs one listing of the checkpoints, one of the journal folders, one per
 * device (of the segments after its cursor), one of the old layout, and one read per new
 * segment: O(devices) requests when nothing changed, O(changes / segment size) after an absence.
 *
 * A device that has folded nothing starts from the newest checkpoint. A new revocation
 * changes which versions count, and a gc run that pruned history changes what the store
 * holds, so the fold then starts again (`startingCheckpoint`).
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import type { ObjectStore } from "../store/object_store.ts";
import { trackedNamespace } from "../sync/sync_context.ts";
import { createLimiter } from "../concurrency/limiter.ts";
import { inOrderAhead } from "../concurrency/in_order_ahead.ts";
import { collectFully } from "../runtime/full_collection.ts";
import type { FileVersion } from "../remote/file_version.ts";
import {
  DEVICE_ID_PATTERN,
  deviceJournalPrefix,
  journalPrefix,
  segmentKey,
} from "../remote/remote_keys.ts";
import { parseSegmentKey } from "../remote/remote_keys.ts";
import { TcfsError } from "../errors.ts";
import { decodeSegment, MAX_SEGMENT_RAW_BYTES, type Segment } from "./journal_codec.ts";
import {
  foldIn,
  foldInSlices,
  forgetFolded,
  hasFolded,
  journalCursors,
  storedVersionFunction,
} from "./folded_versions.ts";
import { forgetLegacyReads, journalMarker } from "./journal_marker.ts";
import {
  checkpointKeys,
  foldFloor,
  isUnreadableObject,
  newestFloor,
  revocationsKey,
  setFoldFloor,
  startingCheckpoints,
} from "./journal_checkpoint.ts";
import { legacyVersionKeys, markLegacyRead, readLegacyVersions } from "./legacy_versions.ts";

/** The local fold's layout: "2" keeps history (0.9.0); a fold without the mark is made again. */
const FOLD_FORMAT = "2";

/** Segments are compressed JSON: stored, they are smaller than decoded. */
const MAX_SEGMENT_STORED_BYTES = MAX_SEGMENT_RAW_BYTES + 1024;

/**
 * Per state database and namespace: the last catch-up, and the one queued to start after it. A
 * caller must see everything written before it asked (a writer that lost a race, a resolution
 * reading heads again), so it never joins a catch-up that has already started: it waits for
 * the queued one, which every caller arriving meanwhile shares.
 */
interface CatchUpSlot {
  tail: Promise<unknown>;
  queued?: Promise<TcfsError[]>;
}

const catchUps = new WeakMap<object, Map<string, CatchUpSlot>>();

/**
 * Folds in what the store holds that this device has not folded yet. Returns what could not
 * be read (a damaged segment stops its device's journal there until it reads again).
 *
 * @example
 * ```ts
 * const unreadable = await catchUp(ctx);
 * const { heads } = foldedPath(ctx.state, trackedNamespace(ctx), "a.txt");
 * ```
 */
export function catchUp(ctx: SyncContext): Promise<TcfsError[]> {
  const ns = trackedNamespace(ctx);
  const slots = catchUps.get(ctx.state) ?? new Map<string, CatchUpSlot>();
  catchUps.set(ctx.state, slots);
  const slot = slots.get(ns) ?? { tail: Promise.resolve() };
  slots.set(ns, slot);
  if (slot.queued) return slot.queued;
  const run: Promise<TcfsError[]> = slot.tail.then(async () => {
    slot.queued = undefined;
    const first = await catchUpOnce(ctx, ns);
    if (first.unreadable.length === 0) return first.unreadable;
    // A gc that wrote a floor meanwhile deleted the segments it covers: a missing one is no
    // loss then, and a fold from the new floor reads what is left.
    if (newestFloor(await checkpointKeys(ctx)) === first.floor) return first.unreadable;
    return (await catchUpOnce(ctx, ns)).unreadable;
  });
  slot.queued = run;
  slot.tail = run.catch(() => {});
  return run;
}

/** One catch-up: what could not be read, and the floor it found at its start. */
async function catchUpOnce(
  ctx: SyncContext,
  ns: string,
): Promise<{ unreadable: TcfsError[]; floor: string | undefined }> {
  const unreadable: TcfsError[] = [];
  const marker = await journalMarker(ctx);
  const revocations = revocationsKey(ctx.revoked);
  const revokedMeta = `journal_revoked:${ns}`;
  const checkpoints = await checkpointKeys(ctx);
  const foundFloor = newestFloor(checkpoints);
  const floor = foundFloor ?? "";
  if (hasFolded(ctx.state, ns) && ctx.state.getMeta(revokedMeta) !== revocations) {
    // A new revocation changes which versions count: what they superseded must come back.
    forgetFolded(ctx.state, ns);
    ctx.log?.("info", `revocations changed: folding ${ctx.namespace} again`);
  }
  const formatMeta = `journal_fold_format:${ns}`;
  if (hasFolded(ctx.state, ns) && ctx.state.getMeta(formatMeta) !== FOLD_FORMAT) {
    // A fold from before history (tcfs 0.8.0) dropped superseded versions: made again, it has them.
    forgetFolded(ctx.state, ns);
    ctx.log?.("info", `folding ${ctx.namespace} again to keep its history`);
  }
  if (hasFolded(ctx.state, ns) && floor !== "" && foldFloor(ctx) !== floor) {
    // gc pruned history and may have moved content to new packs: its floor is the truth now,
    // and the segments it covers may be gone.
    forgetFolded(ctx.state, ns);
    ctx.log?.("info", `gc pruned ${ctx.namespace}: folding it again from ${floor}`);
  }
  if (!hasFolded(ctx.state, ns)) {
    // Old-layout versions read before this fold started may not be in it.
    forgetLegacyReads(ctx);
    setFoldFloor(ctx, floor);
    ctx.state.setMeta(formatMeta, FOLD_FORMAT);
    await foldStartingCheckpoint(ctx, ns, checkpoints, marker.base, unreadable);
    // The checkpoint's text (53 MB at 100,000 paths) is garbage now, but nothing would collect
    // it before a pull's planning had added its own peak to it. Without a checkpoint there is
    // nothing to collect, and a full collection costs a first pull ~25 ms.
    if (checkpoints.length > 0) collectFully();
  }
  // Only now, with a fold made under them: a crash before leaves the old ones, and a refold.
  ctx.state.setMeta(revokedMeta, revocations);
  const cursors = journalCursors(ctx.state, ns);
  const devices = await journalDevices(ctx.store, ctx.namespace);
  const limiter = createLimiter(8);
  await Promise.all(
    devices.map((device) =>
      limiter.run(() => foldDevice(ctx, ns, device, cursors.get(device) ?? 0, unreadable))
    ),
  );
  // Old-layout versions are plaintext, unauthenticated: a sealed namespace reads none.
  if (ctx.keys) return { unreadable, floor: foundFloor };
  const legacy = await readLegacyVersions(
    ctx.store,
    ctx.state,
    await legacyVersionKeys(ctx.store, ctx.namespace),
  );
  unreadable.push(...legacy.unreadable);
  foldIn(ctx.state, ns, legacy.versions.filter((v) => counts(ctx, v.version)));
  markLegacyRead(ctx.store, ctx.state, legacy.versions.map((v) => v.key));
  return { unreadable, floor: foundFloor };
}

/**
 * Folds in the checkpoint a new fold starts from (`startingCheckpoints`), a slice of versions
 * at a time and all in one transaction: the first that reads whole, or nothing when none does.
 * A checkpoint found damaged halfway is rolled back and reported, and the next one tried.
 */
async function foldStartingCheckpoint(
  ctx: SyncContext,
  ns: string,
  checkpoints: readonly string[],
  base: string | undefined,
  unreadable: TcfsError[],
): Promise<void> {
  const stored = await storedVersionFunction(ctx.namespace);
  const own = (cursors: Record<string, number>) =>
    new Map([...Object.entries(cursors), [ctx.device.id, cursors[ctx.device.id] ?? 0]]);
  const report = (err: TcfsError) => unreadable.push(err);
  for await (const start of startingCheckpoints(ctx, checkpoints, report, base)) {
    const slices = function* () {
      for (const versions of start.slices()) yield counted(ctx, versions).map(stored);
    };
    try {
      foldInSlices(ctx.state, ns, slices(), own(start.fields.cursors));
      return;
    } catch (err) {
      if (!isUnreadableObject(err)) throw err;
      report(err);
    }
  }
  foldIn(ctx.state, ns, [], own({}));
}

/**
 * The devices with a journal in `namespace`: one listing, with delimiter.
 *
 * @example
 * ```ts
 * for (const device of await journalDevices(ctx.store, ctx.namespace)) console.log(device);
 * ```
 */
export async function journalDevices(store: ObjectStore, namespace: string): Promise<string[]> {
  const prefix = journalPrefix(namespace);
  const devices: string[] = [];
  for await (const info of store.list(prefix, { delimiter: "/" })) {
    const device = info.key.slice(prefix.length, -1);
    if (info.key.endsWith("/") && DEVICE_ID_PATTERN.test(device)) devices.push(device);
  }
  return devices;
}

/**
 * Folds `device`'s segments after `after`, in order, each in its own transaction. A segment
 * that is missing, damaged or too big stops the journal there: folding later ones past the
 * hole would hide what the hole held.
 */
async function foldDevice(
  ctx: SyncContext,
  ns: string,
  device: string,
  after: number,
  unreadable: TcfsError[],
): Promise<void> {
  const seqs: number[] = [];
  const startAfter = segmentKey(ctx.namespace, device, after);
  const prefix = deviceJournalPrefix(ctx.namespace, device);
  for await (const info of ctx.store.list(prefix, { startAfter })) {
    const parsed = parseSegmentKey(info.key);
    if (parsed) seqs.push(parsed.seq);
  }
  // The segments up to the first hole; the hole itself is reported once those are folded.
  const hole = seqs.findIndex((seq, at) => seq !== after + 1 + at);
  const readable = hole === -1 ? seqs : seqs.slice(0, hole);
  const stored = await storedVersionFunction(ctx.namespace);
  const read = (seq: number) => readSegment(ctx, device, seq);
  for await (const segment of inOrderAhead(readable, SEGMENTS_AHEAD, read)) {
    if (segment instanceof TcfsError) return void unreadable.push(segment);
    foldIn(
      ctx.state,
      ns,
      counted(ctx, segment.versions).map(stored),
      new Map([[device, segment.seq]]),
    );
  }
  if (hole !== -1) unreadable.push(missingSegment(ctx, device, after + 1 + hole));
}

/**
 * Segments fetched and decoded ahead of the one being folded. A segment holds at most 1,000
 * versions (~90 KB stored): a real tree's first pull folds one in ~20 ms, and its fetch and
 * decoding took ~10 ms more before the next could start.
 */
const SEGMENTS_AHEAD = 2;

/** `device`'s segment `seq`, or why it cannot be read (missing, damaged, too big). */
async function readSegment(
  ctx: SyncContext,
  device: string,
  seq: number,
): Promise<Segment | TcfsError> {
  const key = segmentKey(ctx.namespace, device, seq);
  try {
    const body = await ctx.store.get(key, { maxBytes: MAX_SEGMENT_STORED_BYTES });
    if (!body) return missingSegment(ctx, device, seq);
    return await decodeSegment(body, key, ctx.keys);
  } catch (err) {
    if (!isUnreadableObject(err)) throw err;
    return err;
  }
}

function missingSegment(ctx: SyncContext, device: string, seq: number): TcfsError {
  const key = segmentKey(ctx.namespace, device, seq);
  return new TcfsError(`journal object ${key} is missing: its device's later segments wait`, {
    kind: "corrupt_journal",
    hint:
      "the store lost it (a restored backup, a lost volume); `tcfs check` lists what it affects",
  });
}

/** Whether a version counts: a revoked device's versions from after its revocation do not. */
function counts(ctx: SyncContext, version: FileVersion): boolean {
  const revokedAt = ctx.revoked?.get(version.author);
  // written_at is the author's claim; see OPERATIONS.md on what revocation protects.
  return revokedAt === undefined || version.written_at <= revokedAt;
}

function counted(ctx: SyncContext, versions: FileVersion[]): FileVersion[] {
  return versions.filter((v) => counts(ctx, v));
}
