/**
 * One range request per run of neighbouring chunks in a pack, however many files they belong
 * to. A push lays small files' chunks side by side in packs; pulling them file by file would
 * make a request per file (30,000 for 30,000 small files), while the same bytes come down in a
 * few 4 MiB ranges.
 *
 * A pull plans every path first, then hands this module the chunk refs it is about to restore.
 * They are grouped by pack, sorted by offset and cut into runs: neighbours at most
 * {@linkcode PrefetchOptions.maxGapBytes} apart, at most {@linkcode PrefetchOptions.maxRunBytes}
 * a run. Each restore reads through its own claim (a store view): a range that lies within a
 * planned run fetches the whole run once, shared by every claim that wants a slice of it, and
 * the run's buffer is dropped once each planned slice was read or its claim disposed. Runs are
 * fetched only when first read, so a pull that restores files in pack order holds a few runs at
 * a time; past {@linkcode PrefetchOptions.maxBufferedBytes}, reads go straight to the store.
 *
 * Given a box opener that works on its thread ({@linkcode PrefetchOptions.opener}), a run is
 * opened there as a whole once fetched, and its claims read its chunks opened
 * ({@linkcode ClaimedStore.opened}): a real tree's thousands of small sealed chunks are then
 * decrypted, decoded and hashed off the pull's main thread, a few messages a run instead of one
 * per chunk. The next run is fetched and opened as soon as one is, so that the opener's thread
 * works a run ahead of the restores.
 *
 * @module
 */

import type { ChunkRef } from "../remote/file_version.ts";
import { packKey } from "../remote/remote_keys.ts";
import type { ObjectStore } from "../store/object_store.ts";
import { forwardingStore } from "../store/forwarding_store.ts";
import type { BoxOpener, OpenedSlice } from "../crypto/box_opener.ts";
import { TcfsError } from "../errors.ts";

/** The chunks of one file a pull will restore, and the key of their ids (`chunk_id_key.ts`). */
export interface PlannedChunks {
  refs: readonly ChunkRef[];
  idKey?: Uint8Array;
}

/** Limits for {@linkcode createPackRunPrefetch}; the defaults suit SeaweedFS and S3. */
export interface PrefetchOptions {
  /** Neighbours this far apart (or closer) share a run: fetching the gap costs less than a request. */
  maxGapBytes?: number;
  /** A run stops growing at this many bytes (the pack writer's pack size). */
  maxRunBytes?: number;
  /**
   * Runs held in memory at most, in bytes (an opened run's raw chunks count too); a read past
   * it goes straight to the store.
   */
  maxBufferedBytes?: number;
  /**
   * Opens whole runs on its thread, when the runs planned are work enough for it
   * ({@linkcode BoxOpener.offloadsFor}); otherwise their boxes are read and opened one by one.
   */
  opener?: BoxOpener;
}

/** A store for restoring one file, reading from the shared runs. */
export interface ClaimedStore extends ObjectStore, Disposable {
  /**
   * The chunks `refs` (neighbours in the pack `key`, in file order) as the opener's thread
   * opened them with their run, each its raw bytes and id or the error it met; the promise
   * gives `undefined` when the pack is missing. `undefined` itself when their run is not opened
   * so: then read them with `getRange` and open them.
   */
  opened(key: string, refs: readonly ChunkRef[]): Promise<OpenedSlice[] | undefined> | undefined;
}

/** The runs of one pull, and the claims its restores read through. */
export interface PackRunPrefetch {
  /**
   * A store for restoring one file whose chunks are `refs` (as planned): its reads come from
   * the shared runs. Disposing of it drops the slices it did not read, so that a file skipped
   * or failed holds no run in memory.
   */
  claim(refs: readonly ChunkRef[]): ClaimedStore;
  /** Runs planned, for reports and tests. */
  readonly runs: number;
  /** Bytes of runs held in memory now. */
  readonly bufferedBytes: number;
}

const DEFAULT_MAX_GAP_BYTES = 64 * 1024;
const DEFAULT_MAX_RUN_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

interface Run {
  key: string;
  start: number;
  end: number;
  /** Planned reads of the run's slices not yet done or dropped. */
  pending: number;
  /** The planned slices, by offset in the pack. */
  slices: Map<number, PlannedSlice>;
  /** Raw bytes of the planned slices, once opened. */
  rawBytes: number;
  /** The run's bytes, once asked for; undefined again once every slice was read. */
  body?: Promise<Uint8Array | undefined>;
  /**
   * The run's slices opened on the opener's thread, by offset, once asked for (`undefined`
   * when the pack is missing); undefined again once every slice was read.
   */
  opened?: Promise<Map<number, Promise<OpenedSlice>> | undefined>;
  /** Bytes of the budget the run holds while fetched or opened. */
  held: number;
  /** The run after it, in the order the runs were planned. */
  next?: Run;
}

/** A slice of a pack one or more files read: its end, its chunk's id and its id's key. */
interface PlannedSlice {
  end: number;
  id: string;
  size: number;
  idKey?: Uint8Array;
  /** Planned reads of it. */
  times: number;
  /** Planned reads of it through {@linkcode ClaimedStore.opened} not yet made. */
  unread: number;
}

/** A slice of a run one claim plans to read, as often as its file names it. */
interface ClaimedSlice {
  run: Run;
  offset: number;
  times: number;
}

/** A run's slices as the opener's thread answers them, by offset; undefined: the pack is missing. */
type OpenedRun = Promise<Map<number, Promise<OpenedSlice>> | undefined>;

/**
 * Plans the runs for `planned`, the chunk lists of the files a pull will restore (chunks
 * outside packs, from old versions, are left to the store).
 *
 * @example
 * ```ts
 * const prefetch = createPackRunPrefetch(ctx.store, versions.map((v) => ({ refs: v.chunks })));
 * using store = prefetch.claim(version.chunks);
 * await restoreVersion(store, version, target, options);
 * ```
 */
export function createPackRunPrefetch(
  store: ObjectStore,
  planned: Iterable<PlannedChunks>,
  options: PrefetchOptions = {},
): PackRunPrefetch {
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const opener = options.opener;
  const runsByKey = planRuns(planned, options);
  let runCount = 0;
  let plannedBytes = 0;
  for (const runs of runsByKey.values()) {
    runCount += runs.length;
    for (const run of runs) plannedBytes += run.end - run.start;
  }
  let bufferedBytes = 0;
  const opensRuns = opener?.offloadsFor(plannedBytes) ?? false;

  function runHolding(key: string, offset: number, end = offset): Run | undefined {
    return runsByKey.get(key)?.find((run) => run.start <= offset && end <= run.end);
  }

  /** Lets the run's bytes go, opened or not, and gives back the budget they held. */
  function letGo(run: Run): void {
    run.body = undefined;
    run.opened = undefined;
    bufferedBytes -= run.held;
    run.held = 0;
  }

  function drop(run: Run, times: number): void {
    run.pending -= times;
    if (run.pending <= 0 && (run.body || run.opened)) letGo(run);
  }

  /** Gives back `bytes` of the budget `run` holds, unless `run` was let go since `opened`. */
  function free(run: Run, opened: OpenedRun, bytes: number): void {
    if (run.opened !== opened) return;
    run.held -= bytes;
    bufferedBytes -= bytes;
  }

  /** Takes `bytes` of the budget for `run`, unless that would pass it. */
  function hold(run: Run, bytes: number): boolean {
    if (run.pending <= 0 || bufferedBytes + bytes > maxBuffered) return false;
    bufferedBytes += bytes;
    run.held = bytes;
    return true;
  }

  /**
   * The run's bytes, fetched once; undefined when reading it would hold too much memory, or
   * when it is opened on the opener's thread (its bytes went there).
   */
  function bodyOf(run: Run): Promise<Uint8Array | undefined> | undefined {
    if (run.body || run.opened) return run.body;
    const length = run.end - run.start;
    if (!hold(run, length)) return undefined;
    const body = store.getRange(run.key, run.start, length);
    run.body = body;
    // A failed fetch is not kept: the next reader of the run tries again.
    body.catch(() => run.body === body && letGo(run));
    return body;
  }

  /**
   * The run's slices opened on the opener's thread ({@linkcode startOpening}); opening one starts
   * the next too, so that the thread works a run ahead of the restores.
   */
  function openedOf(run: Run): OpenedRun | undefined {
    const opened = startOpening(run);
    if (opened && run.next) startOpening(run.next);
    return opened;
  }

  /**
   * Fetches the run and sends it to the opener's thread, once; undefined without an opener that
   * works on its thread, for a run fetched to be read as it is, or when it would hold too much
   * memory (its stored and its raw bytes).
   */
  function startOpening(run: Run): OpenedRun | undefined {
    if (run.opened || run.body || !opener || !opensRuns) return run.opened;
    const length = run.end - run.start;
    if (!hold(run, length + run.rawBytes)) return undefined;
    const opened: OpenedRun = store.getRange(run.key, run.start, length).then((bytes) => {
      // Let go meanwhile: no reader is left to read it.
      if (!bytes || run.opened !== opened) return undefined;
      const answers = openRun(opener, run, bytes);
      // The stored bytes are the opener's thread's until it has answered every slice.
      Promise.allSettled(answers.values()).then(() => free(run, opened, length));
      return answers;
    });
    run.opened = opened;
    opened.catch(() => run.opened === opened && letGo(run));
    return opened;
  }

  function claim(refs: readonly ChunkRef[]): ClaimedStore {
    const slices = new Map<string, ClaimedSlice>();
    for (const ref of refs) {
      if (ref.pack === undefined || ref.offset === undefined || ref.length === undefined) continue;
      const key = packKey(ref.pack);
      const at = `${key}@${ref.offset}`;
      const known = slices.get(at);
      if (known) known.times++;
      else {
        // By the whole slice: one that starts where the run before it ends is the next run's.
        // Found by its start alone, it was counted against the run before, and the run that
        // planned it waited for it, fetched, to the end of the pull (up to the whole budget).
        const run = runHolding(key, ref.offset, ref.offset + ref.length);
        if (run) slices.set(at, { run, offset: ref.offset, times: 1 });
      }
    }
    /** Drops this claim's slices that `[offset, end)` covers: they have been read. */
    const readDone = (key: string, offset: number, end: number) => {
      for (const [at, slice] of slices) {
        if (slice.run.key !== key || slice.offset < offset || slice.offset >= end) continue;
        slice.times--;
        if (slice.times === 0) slices.delete(at);
        drop(slice.run, 1);
      }
    };
    return {
      ...forwardingStore(store),
      async getRange(key, offset, length) {
        try {
          const run = runHolding(key, offset, offset + length);
          const body = run && bodyOf(run);
          if (!run || !body) return await store.getRange(key, offset, length);
          const bytes = await body;
          return bytes?.subarray(offset - run.start, offset - run.start + length);
        } finally {
          readDone(key, offset, offset + length);
        }
      },
      opened(key, wanted) {
        const [first, last] = [wanted[0], wanted.at(-1)];
        if (first?.offset === undefined || last?.offset === undefined) return undefined;
        const end = last.offset + last.length!;
        const run = runHolding(key, first.offset, end);
        // Each wanted slice must still be unread: a slice read more often than planned (a
        // file's chunk twice in one range) is read from the store instead.
        if (!run || wanted.some((ref) => (run.slices.get(ref.offset!)?.unread ?? 0) <= 0)) {
          return undefined;
        }
        const opened = openedOf(run);
        if (!opened) return undefined;
        return (async () => {
          try {
            const byOffset = await opened;
            if (!byOffset) return undefined;
            const answers = await Promise.all(wanted.map((ref) => byOffset.get(ref.offset!)!));
            for (const ref of wanted) {
              // Each answer is let go once its last planned reader took it, not with the run: an
              // opened run's raw bytes are several times its stored ones.
              const slice = run.slices.get(ref.offset!)!;
              if (--slice.unread !== 0) continue;
              byOffset.delete(ref.offset!);
              free(run, opened, slice.size);
            }
            return answers;
          } finally {
            readDone(key, first.offset!, end);
          }
        })();
      },
      // The pull closes the store it claimed from.
      close: () => {},
      [Symbol.dispose]() {
        for (const slice of slices.values()) drop(slice.run, slice.times);
        slices.clear();
      },
    };
  }

  return {
    claim,
    get runs() {
      return runCount;
    },
    get bufferedBytes() {
      return bufferedBytes;
    },
  };
}

/**
 * Sends the run's slices to the opener's thread; by offset, each slice's answer. A slice the
 * fetched bytes do not reach (a pack shorter than its index says) is an error of its own.
 */
function openRun(
  opener: BoxOpener,
  run: Run,
  bytes: Uint8Array,
): Map<number, Promise<OpenedSlice>> {
  const whole = [...run.slices].filter(([, slice]) => slice.end - run.start <= bytes.length);
  const answers = opener.openRun(
    bytes,
    whole.map(([offset, slice]) => ({
      at: offset - run.start,
      length: slice.end - offset,
      place: slice.id,
      idKey: slice.idKey,
    })),
  );
  const byOffset = new Map<number, Promise<OpenedSlice>>();
  for (const [i, [offset]] of whole.entries()) {
    // A slice no claim reads again (its file failed) must not be an unhandled rejection.
    answers[i].catch(() => {});
    byOffset.set(offset, answers[i]);
  }
  for (const offset of run.slices.keys()) {
    if (byOffset.has(offset)) continue;
    byOffset.set(
      offset,
      Promise.resolve(new TcfsError("the pack is too short", { kind: "corrupt_chunk" })),
    );
  }
  return byOffset;
}

/**
 * Groups the planned slices by pack and cuts each pack's into runs, each linked to the one
 * planned after it.
 */
function planRuns(
  planned: Iterable<PlannedChunks>,
  options: PrefetchOptions,
): Map<string, Run[]> {
  const maxGap = options.maxGapBytes ?? DEFAULT_MAX_GAP_BYTES;
  const maxRun = options.maxRunBytes ?? DEFAULT_MAX_RUN_BYTES;
  /** Per pack key: each slice by its offset. */
  const slices = new Map<string, Map<number, PlannedSlice>>();
  for (const { refs, idKey } of planned) {
    for (const ref of refs) {
      if (ref.pack === undefined || ref.offset === undefined || ref.length === undefined) continue;
      const key = packKey(ref.pack);
      let inPack = slices.get(key);
      if (!inPack) slices.set(key, inPack = new Map());
      const slice = inPack.get(ref.offset);
      if (slice) {
        slice.times++;
        slice.unread++;
      } else {
        inPack.set(ref.offset, {
          end: ref.offset + ref.length,
          id: ref.id,
          size: ref.size,
          idKey,
          times: 1,
          unread: 1,
        });
      }
    }
  }
  const runs = new Map<string, Run[]>();
  let previous: Run | undefined;
  for (const [key, inPack] of slices) {
    const cut: Run[] = [];
    for (const offset of [...inPack.keys()].sort((a, b) => a - b)) {
      const slice = inPack.get(offset)!;
      const last = cut.at(-1);
      if (
        last && offset - last.end <= maxGap && Math.max(slice.end, last.end) - last.start <= maxRun
      ) {
        last.end = Math.max(slice.end, last.end);
        last.pending += slice.times;
        last.rawBytes += slice.size;
        last.slices.set(offset, slice);
      } else {
        const run: Run = {
          key,
          start: offset,
          end: slice.end,
          pending: slice.times,
          slices: new Map([[offset, slice]]),
          rawBytes: slice.size,
          held: 0,
        };
        if (previous) previous.next = run;
        previous = run;
        cut.push(run);
      }
    }
    runs.set(key, cut);
  }
  return runs;
}
