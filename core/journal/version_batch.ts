/**
 * Writes versions into this device's journal: versions queue up, and each flush writes them
 * as one segment, `ns/<namespace>/j/<device>/<seq>.seg`, numbered one past the last this
 * device wrote. A push of many files costs one request per {@linkcode SEGMENT_MAX_VERSIONS}
 * versions instead of one per file. The caller queues a version only once the packs it names
 * are durable, so a segment never names a missing pack.
 *
 * Batches of one process take turns (journal_turns.ts), so they never pick one number twice.
 * A segment is written only if its key is absent (`If-None-Match: *`): two writers with one
 * device id (a CLI beside a daemon that has not taken the lock yet, a cloned home) can pick
 * the same number. The loser catches up, which folds the winner's segment, and decides each
 * queued version again: an unseen live head makes that path a conflict
 * ({@linkcode VersionRaceError}) unless it holds this very content, and the rest go into the
 * next number.
 *
 * @module
 */

import { refuseIfSealed } from "../crypto/namespace_sealing.ts";
import type { SyncContext } from "../sync/sync_context.ts";
import { trackedNamespace } from "../sync/sync_context.ts";
import {
  encodeStoredVersion,
  type FileVersion,
  type VersionFormat,
} from "../remote/file_version.ts";
import { writtenFormat } from "../remote/chunk_id_key.ts";
import { segmentKey } from "../remote/remote_keys.ts";
import { dominates, mergeClocks, tickClock, type VectorClock } from "../vclock/vector_clock.ts";
import { TcfsError } from "../errors.ts";
import { assertNotRevoked } from "../device/device_registry.ts";
import {
  encodeJournalObject,
  JOURNAL_FORMAT,
  SEGMENT_MAX_BYTES,
  SEGMENT_MAX_VERSIONS,
} from "./journal_codec.ts";
import { foldedPath, foldIn, journalCursors, storedVersion } from "./folded_versions.ts";
import { catchUp } from "./journal_catch_up.ts";
import type { PathHeads, StoredVersion } from "./stored_version.ts";
import { assertNoneCondemned } from "../gc/condemned_packs.ts";
import { inJournalTurn } from "./journal_turns.ts";

/**
 * The content fields of a version; the writer fills in identity and clock. `format` says
 * which hash the chunk ids and digest are (`chunk_id_key.ts`): content taken over from a
 * stored version keeps its format, since it names that version's chunks; content read from
 * disk has none and gets the namespace's (3 sealed, 2 plaintext).
 */
export type VersionContent =
  & Pick<
    FileVersion,
    "kind" | "size" | "mode" | "mtime_ms" | "blake3" | "chunks" | "inline" | "target"
  >
  & { format?: VersionFormat };

/** How a queued version treats versions it turns up after losing its segment number. */
export interface WriteOptions {
  /**
   * Any version `base` and `seen` do not dominate stops the write, a deletion too: for a
   * writer (a conflict resolution) that promises to cover nothing it has not read.
   */
  coverOnlySeen?: boolean;
}

/** How many times a segment that lost its number is tried again. */
const RACE_ATTEMPTS = 3;

/**
 * Thrown for a queued version when another writer with this device id wrote the path
 * meanwhile with a version this one has not seen: the path is now a conflict.
 */
export class VersionRaceError extends TcfsError {
  /** The heads the writer had not seen, as read after the race. */
  readonly unseen: StoredVersion[];

  constructor(rel: string, unseen: StoredVersion[]) {
    super(`another writer with this device id wrote ${rel} at the same moment`, {
      kind: "version_race",
      hint:
        "nothing was overwritten; the path is a conflict now (tcfs conflicts). If no other tcfs runs here, run tcfs doctor: this device id may be in use on another host",
    });
    this.name = "VersionRaceError";
    this.unseen = unseen;
  }
}

/** Versions waiting for the next segment. */
export interface VersionBatch {
  /**
   * Queues `content` as the next version of `rel`, with a clock that dominates `base` and
   * every head in `seen`. Settles once its segment is written (or it lost a race).
   */
  write(
    rel: string,
    content: VersionContent,
    base: VectorClock,
    seen: PathHeads,
    options?: WriteOptions,
  ): Promise<StoredVersion>;
  /** Writes what is queued; resolves when every version queued so far has settled. */
  flush(): Promise<void>;
}

interface Queued {
  rel: string;
  content: VersionContent;
  base: VectorClock;
  seen: PathHeads;
  /** Everything the writer had read: after a lost race, only heads past this are news. */
  known: VectorClock;
  options: WriteOptions;
  resolve: (written: StoredVersion) => void;
  reject: (err: unknown) => void;
}

/**
 * Opens a batch. A full batch flushes on its own; the caller flushes the rest.
 *
 * @example
 * ```ts
 * const batch = openVersionBatch(ctx);
 * const written = batch.write("a.txt", content, tracked.baseVclock, heads);
 * await batch.flush();
 * console.log((await written).key);
 * ```
 */
export function openVersionBatch(ctx: SyncContext): VersionBatch {
  let queue: Queued[] = [];
  let queuedBytes = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    const taken = queue;
    queue = [];
    queuedBytes = 0;
    if (taken.length > 0) {
      // Segments go one after another, this batch's and every other batch's on this journal:
      // numbers taken at once would collide (journal_turns.ts). Turns keep their order, so the
      // last one settles after every earlier one of this batch.
      writing = inJournalTurn(ctx, () => writeSegments(ctx, taken));
    }
    return writing;
  };
  return {
    write(rel, content, base, seen, options = {}) {
      // Every version is written here: a revoked device's resolution, copy cap or repair too.
      assertNotRevoked(ctx.device, ctx.revoked);
      const known = mergeClocks(base, ...seen.heads.map((h) => h.version.vclock));
      // Refused alone, before it joins a segment, when no reader would take it.
      let bytes: number;
      try {
        bytes = encodeStoredVersion({ ...draft(ctx, rel, content), vclock: known }).length;
      } catch (err) {
        return Promise.reject(err);
      }
      // A segment stays within what readers accept: a full one goes before this joins.
      if (queuedBytes + bytes > SEGMENT_MAX_BYTES) void flush();
      const written = new Promise<StoredVersion>((resolve, reject) => {
        queue.push({ rel, content, base, seen, known, options, resolve, reject });
      });
      queuedBytes += bytes;
      if (queue.length >= SEGMENT_MAX_VERSIONS) void flush();
      return written;
    },
    flush,
  };
}

/**
 * Writes `content` as the next version of `rel` in a segment of its own: for writers of one
 * path at a time (a conflict resolution, a repair).
 *
 * @example
 * ```ts
 * const written = await writeVersion(ctx, "a.txt", content, tracked.baseVclock, heads);
 * ```
 */
export async function writeVersion(
  ctx: SyncContext,
  rel: string,
  content: VersionContent,
  base: VectorClock,
  seen: PathHeads,
  options: WriteOptions = {},
): Promise<StoredVersion> {
  const batch = openVersionBatch(ctx);
  const written = batch.write(rel, content, base, seen, options);
  await batch.flush();
  return written;
}

/**
 * Whether two versions hold the same content: kind, size, digest and link target.
 *
 * @example
 * ```ts
 * sameVersionContent(head.version, content); // true when a push would write it again
 * ```
 */
export function sameVersionContent(a: VersionContent, b: VersionContent): boolean {
  return a.kind === b.kind && a.size === b.size && a.blake3 === b.blake3 && a.target === b.target;
}

async function writeSegments(ctx: SyncContext, queued: Queued[]): Promise<void> {
  try {
    // A plaintext segment in a namespace sealed since this context was made would be refused
    // by every reader: look again just before writing (one request, plaintext namespaces only).
    if (!ctx.keys) await refuseIfSealed(ctx.store, ctx.state, ctx.namespace);
    let pending = queued;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const ns = trackedNamespace(ctx);
      const seq = (journalCursors(ctx.state, ns).get(ctx.device.id) ?? 0) + 1;
      const written_at = new Date().toISOString();
      const versions = await Promise.all(pending.map((q) => versionOf(ctx, q, written_at)));
      await assertNoneCondemned(ctx.store, versions.map((v) => v.version));
      const key = segmentKey(ctx.namespace, ctx.device.id, seq);
      const body = await encodeJournalObject(
        {
          journal: JOURNAL_FORMAT,
          namespace: ctx.namespace,
          device: ctx.device.id,
          seq,
          written_at,
          versions: versions.map((v) => v.version),
        },
        key,
        ctx.keys,
      );
      if (await ctx.store.putConditional(key, body, { ifNoneMatch: "*" })) {
        foldIn(ctx.state, ns, versions, new Map([[ctx.device.id, seq]]));
        pending.forEach((q, i) => q.resolve(versions[i]));
        return;
      }
      await catchUp(ctx);
      if ((journalCursors(ctx.state, ns).get(ctx.device.id) ?? 0) < seq) {
        // The segment that took the number is not foldable (damaged, or refused): no race to
        // decide, and every try would meet it again.
        throw new TcfsError(
          `this device's journal segment ${key} is in the store but cannot be read`,
          {
            kind: "corrupt_journal",
            hint:
              "run `tcfs check` to see what it affects; nothing more can be written as this device until the segment is restored or removed",
          },
        );
      }
      // Folded by now, the other writer's segment moved this device's cursor past `seq`.
      pending = pending.filter((q) => decideAgain(ctx, q, attempt));
    }
  } catch (err) {
    for (const q of queued) q.reject(err);
  }
}

/** The version `q` stands for, its clock one past everything it has seen. */
async function versionOf(
  ctx: SyncContext,
  q: Queued,
  written_at: string,
): Promise<StoredVersion> {
  const vclock = tickClock(
    mergeClocks(q.base, ...q.seen.heads.map((h) => h.version.vclock)),
    ctx.device.id,
  );
  return await storedVersion(ctx.namespace, {
    ...draft(ctx, q.rel, q.content, written_at),
    vclock,
  });
}

/** A version of `content` by this device, all but its clock. */
function draft(
  ctx: SyncContext,
  rel: string,
  content: VersionContent,
  written_at = new Date().toISOString(),
): Omit<FileVersion, "vclock"> {
  const { format = writtenFormat(ctx.keys), ...fields } = content;
  return {
    format,
    path: rel,
    ...fields,
    author: ctx.device.id,
    author_name: ctx.device.name,
    written_at,
  };
}

/**
 * After a lost race: settles `q` and returns false, or updates what it has seen and returns
 * true to try it again.
 */
function decideAgain(ctx: SyncContext, q: Queued, attempt: number): boolean {
  const seen = foldedPath(ctx.state, trackedNamespace(ctx), q.rel);
  // Heads the writer had read are no news: the number may have gone to a segment of other paths.
  const unseen = seen.heads.filter((h) => !dominates(q.known, h.version.vclock));
  const unseenLive = unseen.filter((h) => h.version.kind !== "deleted");
  if (
    seen.heads.length === 1 && unseenLive.length === 1 &&
    sameVersionContent(unseenLive[0].version, q.content)
  ) {
    q.resolve(unseenLive[0]);
    return false;
  }
  const stop = unseenLive.length > 0 || (q.options.coverOnlySeen && unseen.length > 0);
  if (stop || attempt === RACE_ATTEMPTS) {
    q.reject(new VersionRaceError(q.rel, unseen));
    return false;
  }
  q.seen = seen;
  return true;
}
