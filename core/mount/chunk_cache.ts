/**
 * Verified chunks kept on disk (`$XDG_CACHE_HOME/tcfs/chunks/<id[0..2]>/<id>`), so that a
 * mounted file read once reads again without the store, across restarts and offline. The
 * cache holds at most `maxBytes`; the least recently used chunks go first. Use is recorded as
 * the file's mtime, so the order survives a restart.
 *
 * Only chunks that checked out against their id are put here, each written to a temp file and
 * renamed, so a crash leaves whole chunks or none.
 *
 * @module
 */

import { join } from "node:path";

/** A chunk cache; see the module doc. */
export interface ChunkCache {
  /** The chunk's bytes, or undefined when it is not cached (it counts as used). */
  get(id: string): Promise<Uint8Array | undefined>;
  /** Stores a verified chunk, evicting the least recently used past the bound. */
  put(id: string, bytes: Uint8Array): Promise<void>;
  has(id: string): boolean;
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
  /** Chunks being written: counted in `used` already, not yet readable. */
  const writing = new Set<string>();
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

  await evict();
  return {
    async get(id) {
      const size = sizes.get(id);
      if (size === undefined) return undefined;
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(pathOf(id));
      } catch {
        sizes.delete(id);
        used -= size;
        return undefined;
      }
      touch(id, size);
      // The order on disk (for the next start) need not be exact: a minute is close enough.
      const now = Date.now();
      if (now - (touchedAt.get(id) ?? 0) > 60_000) {
        touchedAt.set(id, now);
        Deno.utime(pathOf(id), new Date(now), new Date(now)).catch(() => {});
      }
      return bytes;
    },
    async put(id, bytes) {
      if (sizes.has(id) || writing.has(id) || bytes.length > maxBytes) return;
      // Room is made before the file is written, so chunks being written at once (a reader
      // with read-ahead) never take the disk past the bound, even for a moment.
      writing.add(id);
      used += bytes.length;
      try {
        await evict();
        const path = pathOf(id);
        await Deno.mkdir(join(dir, id.slice(0, 2)), { recursive: true });
        const temp = `${path}.tmp${crypto.randomUUID().slice(0, 8)}`;
        await Deno.writeFile(temp, bytes, { mode: 0o600 });
        await Deno.rename(temp, path);
        sizes.set(id, bytes.length);
      } catch (err) {
        used -= bytes.length;
        throw err;
      } finally {
        writing.delete(id);
      }
    },
    has: (id) => sizes.has(id),
    get usedBytes() {
      return used;
    },
    maxBytes,
  };
}
