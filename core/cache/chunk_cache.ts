/**
 * Verified chunks kept on disk (`$XDG_CACHE_HOME/tcfs/chunks/<id[0..2]>/<id>`), shared by mounts
 * and pulls: a chunk a mount read or a pull fetched is not fetched again, across restarts and
 * offline. The cache holds at most `maxBytes`; the least recently used chunks go first. Use is
 * recorded as the file's mtime, so the order survives a restart.
 *
 * Chunks are kept raw (decoded, and opened in a sealed namespace): the id names the plain bytes
 * (keyed there), so a reader checks a cached chunk against its id as it would a fetched one
 * (`cachedChunk` in `core/sync/verified_content.ts`). Only chunks that checked out are put here,
 * each written to a temp file and renamed (no fsync: a chunk lost to a power cut is fetched
 * again), so a crash leaves whole chunks or none, and another process never reads half of one.
 * The cache keeps the record of which chunk files checked out (`verified_chunks.ts`): a chunk
 * it put (verified bytes) is on record as written, and a reader records the ones it checked.
 *
 * Each process that opens it (the daemon, whose mounts and pulls share one index; a `tcfs pull` or
 * `tcfs mount` in a terminal) keeps its own index, read from the disk when it opens the cache
 * (looking a missed chunk up on disk would cost a pull of 10,000 files half a second), so each
 * sees what the others put there since only when it opens the cache again, and each stays within
 * the bound for what it knows of.
 *
 * @module
 */

import { join } from "node:path";
import { openVerifiedChunks } from "./verified_chunks.ts";

/** A chunk cache; see the module doc. */
export interface ChunkCache {
  /** The chunk's bytes, or undefined when it is not cached (it counts as used). */
  get(id: string): Promise<Uint8Array | undefined>;
  /**
   * The chunk's file opened for reading, or undefined when it is not cached (it counts as used):
   * a reader takes part of it, or checks its identity (`stat().ino`: a chunk is only ever
   * replaced whole, by a rename, never written in place).
   */
  openSync(id: string): Deno.FsFile | undefined;
  /**
   * Stores a verified chunk, evicting the least recently used past the bound. Synchronous: a
   * chunk's file is written to the page cache in microseconds, where handing each of a pull's
   * thousands to a thread would cost more than the write.
   *
   * @throws {Error} when the disk refuses it (full, read-only): the chunk is not cached.
   */
  put(id: string, bytes: Uint8Array): void;
  /** Whether the chunk is cached, as far as this process knows. */
  has(id: string): boolean;
  /** Removes a chunk (one that did not check out). */
  drop(id: string): void;
  /**
   * Whether a check of the chunk's file is on record (it was put, or a reader checked it, in this
   * process or an earlier one); {@linkcode ChunkCache.stillVerified} tells whether the file is
   * still that one.
   */
  verifiedOnRecord(id: string): boolean;
  /**
   * Whether `info` (the `stat` of the file {@linkcode ChunkCache.openSync} gave) shows the file
   * of the chunk that checked out, unchanged since: its bytes need no hashing.
   */
  stillVerified(id: string, info: Deno.FileInfo): boolean;
  /** Records that the chunk's file, as `info` showed it before its bytes were read, checked out. */
  recordVerified(id: string, info: Deno.FileInfo): void;
  readonly usedBytes: number;
  readonly maxBytes: number;
}

/**
 * Opens (or creates) the cache at `dir`, reading what is there. Chunks `keep` accepts (pinned
 * ones) are never evicted. The record of checked chunk files is kept at `verifiedRecord`, or in
 * memory only without it.
 *
 * @example
 * ```ts
 * const cache = await openChunkCache(join(xdgCacheHome, "tcfs/chunks"), 10 * 2 ** 30);
 * const bytes = await cache.get(ref.id);
 * ```
 */
export async function openChunkCache(
  dir: string,
  maxBytes: number,
  options: { keep?: (id: string) => boolean; verifiedRecord?: string } = {},
): Promise<ChunkCache> {
  // Private: the chunks are plaintext, also those of sealed namespaces.
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  /** Sizes by id, least recently used first (a Map keeps insertion order). */
  const sizes = new Map<string, number>();
  let used = 0;
  const found: { id: string; size: number; at: number }[] = [];
  for await (const shard of Deno.readDir(dir)) {
    if (!shard.isDirectory) continue;
    for await (const entry of Deno.readDir(join(dir, shard.name))) {
      const path = join(dir, shard.name, entry.name);
      if (entry.name.includes(".tmp")) {
        await Deno.remove(path).catch(() => {});
        continue;
      }
      const info = await Deno.stat(path).catch(() => undefined);
      if (info?.isFile) {
        found.push({ id: entry.name, size: info.size, at: info.mtime?.getTime() ?? 0 });
      }
    }
  }
  for (const { id, size } of found.sort((a, b) => a.at - b.at)) {
    sizes.set(id, size);
    used += size;
  }
  const pathOf = (id: string) => join(dir, id.slice(0, 2), id);
  const verified = openVerifiedChunks(options.verifiedRecord, (id) => sizes.has(id));
  /** When each chunk's mtime was last set, this run. */
  const touchedAt = new Map<string, number>();

  /** Moves a chunk to the recently used end; on disk too, at most once a minute. */
  const touch = (id: string, size: number) => {
    sizes.delete(id);
    sizes.set(id, size);
    // The order on disk (for the next start) need not be exact: a minute is close enough.
    const now = Date.now();
    if (now - (touchedAt.get(id) ?? 0) > 60_000) {
      touchedAt.set(id, now);
      setUseTime(id, new Date(now));
    }
  };
  /**
   * Sets the chunk file's mtime, which also sets its ctime: a check on record is carried over, if
   * the file was still the one checked. Synchronous, so that a reader's `stat` after `openSync`
   * sees the file as recorded.
   */
  const setUseTime = (id: string, at: Date) => {
    const path = pathOf(id);
    try {
      const before = verified.has(id) ? Deno.statSync(path) : undefined;
      Deno.utimeSync(path, at, at);
      if (before) verified.carry(id, before, Deno.statSync(path));
    } catch {
      // Gone meanwhile (another process evicted it): the next read finds out.
    }
  };
  /** Forgets a chunk gone from the disk behind this process's back. */
  const lost = (id: string, size: number) => {
    verified.forget(id);
    if (sizes.delete(id)) used -= size;
  };

  function evict(): void {
    for (const [id, size] of sizes) {
      if (used <= maxBytes) break;
      // Pinned chunks stay, even past the bound.
      if (options.keep?.(id)) continue;
      forget(id, size);
    }
  }

  /** Removes a chunk the index holds. */
  function forget(id: string, size: number): void {
    sizes.delete(id);
    touchedAt.delete(id);
    verified.forget(id);
    used -= size;
    removeIfPresent(pathOf(id));
  }

  /** Shard folders known to exist: a pull puts thousands of chunks. */
  const shards = new Set<string>();
  function put(id: string, bytes: Uint8Array): void {
    // One another process put since this one opened the cache is replaced by the same bytes.
    if (sizes.has(id) || bytes.length > maxBytes) return;
    const path = pathOf(id);
    const shard = id.slice(0, 2);
    if (!shards.has(shard)) {
      Deno.mkdirSync(join(dir, shard), { recursive: true, mode: 0o700 });
      shards.add(shard);
    }
    const temp = `${path}.tmp${crypto.randomUUID().slice(0, 8)}`;
    used += bytes.length;
    try {
      // Room is made before the file is written, so the disk never holds more than the bound.
      evict();
      Deno.writeFileSync(temp, bytes, { mode: 0o600 });
      Deno.renameSync(temp, path);
    } catch (err) {
      // Not counted, whichever step failed (an eviction the disk refused too).
      used -= bytes.length;
      try {
        removeIfPresent(temp);
      } catch {
        // The disk's refusal is the error to report.
      }
      throw err;
    }
    sizes.set(id, bytes.length);
    // Written just now: its mtime already says so.
    touchedAt.set(id, Date.now());
    try {
      verified.record(id, Deno.statSync(path));
    } catch {
      // Evicted at once by another process: nothing to record.
    }
  }

  evict();
  return {
    async get(id) {
      const size = sizes.get(id);
      if (size === undefined) return undefined;
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(pathOf(id));
      } catch {
        // Evicted meanwhile (then it is no longer known), or gone from the disk.
        lost(id, size);
        return undefined;
      }
      // Evicted while it was read: the bytes serve this read, and are not counted again.
      if (sizes.has(id)) touch(id, size);
      return bytes;
    },
    openSync(id) {
      const size = sizes.get(id);
      if (size === undefined) return undefined;
      try {
        const file = Deno.openSync(pathOf(id));
        touch(id, size);
        return file;
      } catch {
        lost(id, size);
        return undefined;
      }
    },
    put,
    has: (id) => sizes.has(id),
    drop(id) {
      const size = sizes.get(id);
      if (size !== undefined) forget(id, size);
    },
    verifiedOnRecord: (id) => verified.has(id),
    stillVerified: (id, info) => verified.matches(id, info),
    recordVerified: (id, info) => verified.record(id, info),
    get usedBytes() {
      return used;
    },
    maxBytes,
  };
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
