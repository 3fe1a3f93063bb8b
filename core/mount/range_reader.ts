/**
 * Reads part of a stored file: only the chunks that cover the range, from the chunk cache
 * (checked against their ids as fetched ones are: the cache is on disk, and a pull fills it too)
 * or else fetched (one request per run of neighbours) and verified, then cached. Concurrent
 * readers of one chunk share its fetch. A read the store does not answer within the timeout
 * fails, so a mount never hangs on a store that is down.
 *
 * A cached chunk's file is hashed once, not on every read nor in every process: once it checked
 * out (or was fetched, verified and written), the cache records the file as `stat` shows it
 * (`core/cache/verified_chunks.ts`), and later reads, in this process or the next mount, take
 * just the bytes they need straight from that file into the reply while it still matches. That
 * holds because the cache never writes a chunk's file in place: tcfs replaces a chunk only
 * whole, by a rename (a new inode, checked again), any other write changes the file's ctime, and
 * the folder is private (0700). What it does not catch is the disk changing bytes without a
 * write, for the week a check is trusted (docs/MOUNT.md). Hashing every read capped warm reads at
 * the hash's speed (BLAKE3 in WASM, 0.8 GB/s per core here), and hashing once per process held
 * a new mount's reads of a cached file to 380 MB/s.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { ChunkRef, FileVersion } from "../remote/file_version.ts";
import { decodeBase64 } from "../encoding/base64.ts";
import { type DownloadCounters, fetchVerifiedChunks } from "../sync/verified_content.ts";
import { chunkIdKey } from "../remote/chunk_id_key.ts";
import type { ChunkHasher } from "../hashing/chunk_hasher.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";
import type { ChunkCache } from "../cache/chunk_cache.ts";
import { TcfsError } from "../errors.ts";
import { hashChunk } from "../hashing/chunk_hasher.ts";
import { readUpToSync } from "../io/byte_reader.ts";
import { collectFully } from "../runtime/full_collection.ts";

/**
 * Bytes of recently read chunks kept in memory: twice the mount's read-ahead (8 MiB), so chunks
 * loaded ahead stay until read. Every byte here also counts twice toward the process's peak RSS
 * (V8 frees dropped buffers only after about 64 MiB more were allocated), so no more.
 */
const RECENT_BYTES = 16 * 1024 * 1024;
/**
 * Chunk bytes read into memory (fetched, or read whole to be checked) between two full garbage
 * collections. V8 frees dropped buffers only once about 64 MiB more were allocated, and does not
 * count what the hashing thread holds: a large read's peak RSS was 60–100 MB over its median.
 * A collection of the mount's small heap takes a few milliseconds, per 32 MiB read.
 */
const COLLECT_EVERY_BYTES = 32 * 1024 * 1024;
/**
 * How many bytes of dead buffers a fetched chunk byte is counted as toward the next
 * collection: besides the range's body, the HTTP client's pieces of it (likely copied on their
 * way through Node's streams into a web stream) wait for the collector. Counted once, a cold
 * read collected every 32 MiB fetched and its ArrayBuffers were at 120–140 MB at the
 * collections, with 17 MiB of recent chunks and 5–20 MiB in flight. Counted four times, its
 * peak fell by another 15 MB but it took a quarter more CPU (docs/BENCHMARKS.md).
 */
const FETCH_GARBAGE = 2;

/** Options for {@linkcode createRangeReader}. */
export interface RangeReaderOptions {
  /** The namespace's keys, when it is sealed. */
  keys?: FleetKeys;
  /** How long a read may wait for the store. */
  timeoutMs: number;
  /** Counts what came from the store. */
  counters: DownloadCounters;
  /**
   * Checks cached chunks' ids, on another thread once enough was read: a warm sequential read
   * then hashes beside the serving thread. In place without it.
   */
  hasher?: ChunkHasher;
}

/** Reads ranges of versions; see the module doc. */
export interface RangeReader {
  /**
   * `size` bytes of `version` from `offset` (fewer at the end of the file). Given `into` (at
   * least `size` bytes), the bytes may be put there: the result is then a view of it.
   */
  read(version: FileVersion, offset: number, size: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Fetches the chunks covering the range into the cache, and reads cached ones into memory,
   * without waiting for them.
   */
  prefetch(version: FileVersion, offset: number, size: number): void;
  /** Chunk fetches in flight. */
  readonly inFlight: number;
}

/**
 * A reader over `store` and `cache`.
 *
 * @example
 * ```ts
 * const reader = createRangeReader(ctx.store, cache, { keys: ctx.keys, timeoutMs: 10_000, counters });
 * const bytes = await reader.read(version, 1 << 20, 128 << 10);
 * ```
 */
export function createRangeReader(
  store: ObjectStore,
  cache: ChunkCache,
  options: RangeReaderOptions,
): RangeReader {
  const fetching = new Map<string, Promise<Uint8Array>>();
  /**
   * The chunks read last, in memory: the kernel reads 128 KiB at a time, so a chunk (256 KiB on
   * average) is asked for several times in a row.
   */
  const recent = new Map<string, Uint8Array>();
  let recentBytes = 0;
  /** Cached chunks being read into `recent` ahead of a sequential reader. */
  const loading = new Set<string>();
  const remember = (id: string, bytes: Uint8Array) => {
    if (recent.has(id)) return;
    recent.set(id, bytes);
    recentBytes += bytes.length;
    for (const [old, held] of recent) {
      if (recentBytes <= RECENT_BYTES) break;
      recent.delete(old);
      recentBytes -= held.length;
    }
  };
  const starts = new WeakMap<FileVersion, number[]>();
  let sinceCollection = 0;
  /** Counts chunk bytes read into memory, collecting garbage every so often. */
  const allocated = (bytes: number) => {
    sinceCollection += bytes;
    if (sinceCollection < COLLECT_EVERY_BYTES) return;
    sinceCollection = 0;
    collectFully();
  };

  /**
   * A cached chunk's bytes, checked against its id: read whole from its file, which the cache then
   * records as checked; undefined (and dropped from the cache) when it does not check out.
   */
  async function loadCached(version: FileVersion, ref: ChunkRef): Promise<Uint8Array | undefined> {
    let info: Deno.FileInfo;
    let bytes: Uint8Array | undefined;
    {
      using file = cache.openSync(ref.id);
      if (!file) return undefined;
      info = file.statSync();
      if (info.size === ref.size) {
        allocated(ref.size);
        bytes = readUpToSync(file, new Uint8Array(ref.size));
      }
    }
    if (bytes?.length === ref.size) {
      const idKey = chunkIdKey(version.format, options.keys);
      // The hashing thread may take the buffer over and hand back another view of it.
      const checked = await hashChunk(bytes, options.hasher, { idKey });
      if (checked.id === ref.id) {
        cache.recordVerified(ref.id, info);
        return checked.bytes;
      }
    }
    cache.drop(ref.id);
    return undefined;
  }

  /**
   * Copies `[from, to)` of a checked cached chunk into `into` at `at`; false when no check is on
   * record, or its file is gone or no longer the one that checked out.
   */
  function readTrusted(ref: ChunkRef, from: number, to: number, into: Uint8Array, at: number) {
    if (!cache.verifiedOnRecord(ref.id)) return false;
    using file = cache.openSync(ref.id);
    const info = file?.statSync();
    if (!file || info!.size !== ref.size || !cache.stillVerified(ref.id, info!)) return false;
    file.seekSync(from, Deno.SeekMode.Start);
    return readUpToSync(file, into.subarray(at, at + to - from)).length === to - from;
  }

  /** Where each chunk starts in the file. */
  function chunkStarts(version: FileVersion): number[] {
    let known = starts.get(version);
    if (!known) {
      known = [];
      let at = 0;
      for (const ref of version.chunks) {
        known.push(at);
        at += ref.size;
      }
      starts.set(version, known);
    }
    return known;
  }

  /** The indexes of the chunks that overlap `[offset, end)`. */
  function covering(version: FileVersion, offset: number, end: number): number[] {
    const at = chunkStarts(version);
    let lo = 0;
    let hi = at.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (at[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    const out: number[] = [];
    for (let i = lo; i < at.length && at[i] < end; i++) out.push(i);
    return out;
  }

  /**
   * Starts fetching the refs neither cached nor in flight, as one batch. One still held in memory
   * (read since the cache, smaller than what was read, evicted it) is cached again from there.
   */
  function fetchMissing(version: FileVersion, refs: ChunkRef[]): void {
    const missing: ChunkRef[] = [];
    for (const ref of refs) {
      if (cache.has(ref.id) || fetching.has(ref.id)) continue;
      const held = recent.get(ref.id);
      if (held) putInCache(ref.id, held);
      else missing.push(ref);
    }
    const unique = [...new Map(missing.map((ref) => [ref.id, ref])).values()];
    if (unique.length === 0) return;
    const batch = fetchVerifiedChunks(store, version, unique, {
      counters: options.counters,
      keys: options.keys,
    });
    const bytes = unique.reduce((sum, ref) => sum + ref.size, 0);
    batch.then(() => allocated(FETCH_GARBAGE * bytes), () => {});
    unique.forEach((ref, i) => {
      const one = batch.then((chunks) => {
        remember(ref.id, chunks[i]);
        putInCache(ref.id, chunks[i]);
        return chunks[i];
      }).finally(() => fetching.delete(ref.id));
      one.catch(() => {});
      fetching.set(ref.id, one);
    });
  }

  /** Caches a checked chunk; a cache that cannot take it (disk full) still lets reads be served. */
  function putInCache(id: string, bytes: Uint8Array): void {
    try {
      cache.put(id, bytes);
    } catch {
      // Fetched again next time it is not in memory.
    }
  }

  /** A chunk's bytes: from its fetch when one is in flight, else from the cache, else fetched. */
  async function chunkBytes(
    version: FileVersion,
    ref: ChunkRef,
    pending: Promise<Uint8Array> | undefined,
  ): Promise<Uint8Array> {
    const held = recent.get(ref.id);
    if (held) return held;
    if (pending) return await pending;
    const cached = await loadCached(version, ref);
    if (cached) {
      remember(ref.id, cached);
      return cached;
    }
    // Evicted since the read began (a cache smaller than what is being read), or damaged.
    fetchMissing(version, [ref]);
    return await (fetching.get(ref.id) ?? Promise.reject(new Error(`chunk ${ref.id} is gone`)));
  }

  async function assemble(
    version: FileVersion,
    offset: number,
    end: number,
    into: Uint8Array | undefined,
  ): Promise<Uint8Array> {
    const indexes = covering(version, offset, end);
    const refs = indexes.map((i) => version.chunks[i]);
    fetchMissing(version, refs);
    // Taken now: a fetch leaves the map once done, and its chunk may leave a small cache.
    const pending = refs.map((ref) => fetching.get(ref.id));
    const at = chunkStarts(version);
    if (indexes.length === 1) {
      const inMemory = recent.get(refs[0].id) ?? await pending[0];
      // Within one chunk held in memory: its bytes as they are, uncopied.
      if (inMemory) return inMemory.subarray(offset - at[indexes[0]], end - at[indexes[0]]);
    }
    const out = into?.subarray(0, end - offset) ?? new Uint8Array(end - offset);
    for (const [n, i] of indexes.entries()) {
      const from = Math.max(offset, at[i]) - at[i];
      const to = Math.min(end, at[i] + refs[n].size) - at[i];
      const held = recent.get(refs[n].id);
      if (!held && !pending[n] && readTrusted(refs[n], from, to, out, at[i] + from - offset)) {
        continue;
      }
      const bytes = held ?? await chunkBytes(version, refs[n], pending[n]);
      out.set(bytes.subarray(from, to), at[i] + from - offset);
    }
    return out;
  }

  return {
    async read(version, offset, size, into) {
      const end = Math.min(version.size, offset + size);
      if (end <= offset) return new Uint8Array();
      if (version.inline !== undefined) return decodeBase64(version.inline).subarray(offset, end);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() =>
          reject(
            new TcfsError(
              `${version.path}: the store did not answer within ${options.timeoutMs / 1000} s`,
              { hint: "check the store's endpoint and the network; cached files still read" },
            ),
          ), options.timeoutMs);
      });
      try {
        return await Promise.race([assemble(version, offset, end, into), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    prefetch(version, offset, size) {
      if (version.inline !== undefined) return;
      const end = Math.min(version.size, offset + size);
      if (end <= offset) return;
      const refs = covering(version, offset, end).map((i) => version.chunks[i]);
      fetchMissing(version, refs);
      // Cached ones not yet checked are read and checked ahead too (on the hashing thread): a
      // sequential reader then waits for no hash. Checked ones are read when asked for.
      for (const ref of refs) {
        if (recent.has(ref.id) || loading.has(ref.id) || cache.verifiedOnRecord(ref.id)) continue;
        if (!cache.has(ref.id)) continue;
        loading.add(ref.id);
        Promise.resolve()
          .then(() => loadCached(version, ref))
          .then((bytes) => bytes && remember(ref.id, bytes), () => {})
          .finally(() => loading.delete(ref.id));
      }
    },
    get inFlight() {
      return fetching.size;
    },
  };
}
