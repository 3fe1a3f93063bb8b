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
 * again), so a crash leaves whole chunks or none.
 *
 * Several processes may hold the cache open (the daemon's mounts and pulls, a `tcfs pull` in a
 * terminal): each keeps its own index, and a chunk another one added is found on disk when asked
 * for, so each stays within the bound for what it knows of.
 *
 * @module
 */

import { join } from "node:path";

/** Bytes handed to `putBehind` and not yet written, at most. */
export const WRITE_BEHIND_BYTES = 32 * 1024 * 1024;

/** A chunk cache; see the module doc. */
export interface ChunkCache {
  /** The chunk's bytes, or undefined when it is not cached (it counts as used). */
  get(id: string): Promise<Uint8Array | undefined>;
  /** Stores a verified chunk, evicting the least recently used past the bound. */
  put(id: string, bytes: Uint8Array): Promise<void>;
  /** Whether the chunk is cached (found on disk when another process put it). */
  has(id: string): boolean;
  /** Removes a chunk (one that did not check out). */
  drop(id: string): Promise<void>;
  /**
   * Puts a verified chunk without waiting for the disk, unless more than
   * {@linkcode WRITE_BEHIND_BYTES} are waiting already (then until some is written), so a pull
   * keeps streaming and memory stays bounded. A chunk that cannot be written is not cached.
   */
  putBehind(id: string, bytes: Uint8Array): Promise<void>;
  /** Resolves once every chunk handed to {@linkcode ChunkCache.putBehind} is written. */
  flush(): Promise<void>;
  readonly usedBytes: number;
  readonly maxBytes: number;
}

/**
 * Opens (or creates) the cache at `dir`, reading what is there. Chunks `keep` accepts (pinned
 * ones) are never evicted.
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
  options: { keep?: (id: string) => boolean } = {},
): Promise<ChunkCache> {
  await Deno.mkdir(dir, { recursive: true });
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
  /** When each chunk's mtime was last set, this run. */
  const touchedAt = new Map<string, number>();

  const touch = (id: string, size: number) => {
    sizes.delete(id);
    sizes.set(id, size);
  };

  async function evict(): Promise<void> {
    for (const [id, size] of sizes) {
      if (used <= maxBytes) break;
      // Pinned chunks stay, even past the bound.
      if (options.keep?.(id)) continue;
      sizes.delete(id);
      touchedAt.delete(id);
      used -= size;
      await Deno.remove(pathOf(id)).catch(() => {});
    }
  }

  /** Whether the chunk is known or, put by another process, on disk (then it is known). */
  const adopted = (id: string): boolean => {
    if (sizes.has(id)) return true;
    try {
      const { size } = Deno.statSync(pathOf(id));
      sizes.set(id, size);
      used += size;
      return true;
    } catch {
      return false;
    }
  };

  /** Shard folders known to exist: a pull puts thousands of chunks. */
  const shards = new Set<string>();
  async function put(id: string, bytes: Uint8Array): Promise<void> {
    if (adopted(id) || bytes.length > maxBytes) return;
    const path = pathOf(id);
    const shard = id.slice(0, 2);
    if (!shards.has(shard)) {
      await Deno.mkdir(join(dir, shard), { recursive: true });
      shards.add(shard);
    }
    const temp = `${path}.tmp${crypto.randomUUID().slice(0, 8)}`;
    await Deno.writeFile(temp, bytes, { mode: 0o600 });
    await Deno.rename(temp, path);
    // Known already when a reader found it on disk meanwhile (or another writer put it).
    if (!sizes.has(id)) {
      sizes.set(id, bytes.length);
      used += bytes.length;
    }
    await evict();
  }

  /** Writes handed to `putBehind` still running, and their bytes. */
  const writing = new Set<Promise<void>>();
  let behindBytes = 0;

  await evict();
  return {
    async get(id) {
      if (!adopted(id)) return undefined;
      const size = sizes.get(id)!;
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(pathOf(id));
      } catch {
        // Evicted meanwhile (then it is no longer known), or gone from the disk.
        if (sizes.delete(id)) used -= size;
        return undefined;
      }
      // Evicted while it was read: the bytes serve this read, and are not counted again.
      if (sizes.has(id)) touch(id, size);
      // The order on disk (for the next start) need not be exact: a minute is close enough.
      const now = Date.now();
      if (now - (touchedAt.get(id) ?? 0) > 60_000) {
        touchedAt.set(id, now);
        Deno.utime(pathOf(id), new Date(now), new Date(now)).catch(() => {});
      }
      return bytes;
    },
    put,
    async putBehind(id, bytes) {
      while (behindBytes > WRITE_BEHIND_BYTES && writing.size > 0) await Promise.race(writing);
      behindBytes += bytes.length;
      const write: Promise<void> = put(id, bytes).catch(() => {}).finally(() => {
        behindBytes -= bytes.length;
        writing.delete(write);
      });
      writing.add(write);
    },
    async flush() {
      await Promise.all(writing);
    },
    has: adopted,
    async drop(id) {
      const size = sizes.get(id);
      if (size === undefined) return;
      sizes.delete(id);
      touchedAt.delete(id);
      used -= size;
      await Deno.remove(pathOf(id)).catch(() => {});
    },
    get usedBytes() {
      return used;
    },
    maxBytes,
  };
}
