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
 * @module
 */

import type { ChunkRef } from "../remote/file_version.ts";
import { packKey } from "../remote/remote_keys.ts";
import type { ObjectStore } from "../store/object_store.ts";

/** Limits for {@linkcode createPackRunPrefetch}; the defaults suit SeaweedFS and S3. */
export interface PrefetchOptions {
  /** Neighbours this far apart (or closer) share a run: fetching the gap costs less than a request. */
  maxGapBytes?: number;
  /** A run stops growing at this many bytes (the pack writer's pack size). */
  maxRunBytes?: number;
  /** Runs held in memory at most, in bytes; a read past it goes straight to the store. */
  maxBufferedBytes?: number;
}

/** The runs of one pull, and the claims its restores read through. */
export interface PackRunPrefetch {
  /**
   * A store for restoring one file whose chunks are `refs` (as planned): its reads come from
   * the shared runs. Disposing of it drops the slices it did not read, so that a file skipped
   * or failed holds no run in memory.
   */
  claim(refs: readonly ChunkRef[]): ObjectStore & Disposable;
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
  /** The run's bytes, once asked for; undefined again once every slice was read. */
  body?: Promise<Uint8Array | undefined>;
}

/** A slice of a run one claim plans to read, as often as its file names it. */
interface ClaimedSlice {
  run: Run;
  offset: number;
  times: number;
}

/**
 * Plans the runs for `planned`, the chunk lists of the files a pull will restore (chunks
 * outside packs, from old versions, are left to the store).
 *
 * @example
 * ```ts
 * const prefetch = createPackRunPrefetch(ctx.store, versions.map((v) => v.chunks));
 * using store = prefetch.claim(version.chunks);
 * await restoreVersion(store, version, target, options);
 * ```
 */
export function createPackRunPrefetch(
  store: ObjectStore,
  planned: Iterable<readonly ChunkRef[]>,
  options: PrefetchOptions = {},
): PackRunPrefetch {
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const runsByKey = planRuns(planned, options);
  let runCount = 0;
  for (const runs of runsByKey.values()) runCount += runs.length;
  let bufferedBytes = 0;

  function runHolding(key: string, offset: number, end = offset): Run | undefined {
    return runsByKey.get(key)?.find((run) => run.start <= offset && end <= run.end);
  }

  function drop(run: Run, times: number): void {
    run.pending -= times;
    if (run.pending > 0 || !run.body) return;
    run.body = undefined;
    bufferedBytes -= run.end - run.start;
  }

  /** The run's bytes, fetched once; undefined when reading it would hold too much memory. */
  function bodyOf(run: Run): Promise<Uint8Array | undefined> | undefined {
    if (run.body) return run.body;
    const length = run.end - run.start;
    if (run.pending <= 0 || bufferedBytes + length > maxBuffered) return undefined;
    bufferedBytes += length;
    const body = store.getRange(run.key, run.start, length);
    run.body = body;
    body.catch(() => {
      // A failed fetch is not kept: the next reader of the run tries again.
      if (run.body !== body) return;
      run.body = undefined;
      bufferedBytes -= length;
    });
    return body;
  }

  function claim(refs: readonly ChunkRef[]): ObjectStore & Disposable {
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
      location: store.location,
      ensureReady: () => store.ensureReady(),
      get: (key, getOptions) => store.get(key, getOptions),
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
      getWithEtag: (key, getOptions) => store.getWithEtag(key, getOptions),
      put: (key, body, putOptions) => store.put(key, body, putOptions),
      putConditional: (key, body, condition) => store.putConditional(key, body, condition),
      has: (key) => store.has(key),
      list: (prefix) => store.list(prefix),
      delete: (key) => store.delete(key),
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

/** Groups the planned slices by pack and cuts each pack's into runs. */
function planRuns(
  planned: Iterable<readonly ChunkRef[]>,
  options: PrefetchOptions,
): Map<string, Run[]> {
  const maxGap = options.maxGapBytes ?? DEFAULT_MAX_GAP_BYTES;
  const maxRun = options.maxRunBytes ?? DEFAULT_MAX_RUN_BYTES;
  /** Per pack key: each slice's offset, its end and how often it is to be read. */
  const slices = new Map<string, Map<number, { end: number; times: number }>>();
  for (const refs of planned) {
    for (const ref of refs) {
      if (ref.pack === undefined || ref.offset === undefined || ref.length === undefined) continue;
      const key = packKey(ref.pack);
      let inPack = slices.get(key);
      if (!inPack) slices.set(key, inPack = new Map());
      const slice = inPack.get(ref.offset);
      if (slice) slice.times++;
      else inPack.set(ref.offset, { end: ref.offset + ref.length, times: 1 });
    }
  }
  const runs = new Map<string, Run[]>();
  for (const [key, inPack] of slices) {
    const cut: Run[] = [];
    for (const offset of [...inPack.keys()].sort((a, b) => a - b)) {
      const { end, times } = inPack.get(offset)!;
      const last = cut.at(-1);
      if (last && offset - last.end <= maxGap && Math.max(end, last.end) - last.start <= maxRun) {
        last.end = Math.max(end, last.end);
        last.pending += times;
      } else cut.push({ key, start: offset, end, pending: times });
    }
    runs.set(key, cut);
  }
  return runs;
}
