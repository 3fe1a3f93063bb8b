/**
 * The device's chunk cache (`$XDG_CACHE_HOME/tcfs/chunks`, with its record of checked chunk files
 * in `$XDG_CACHE_HOME/tcfs/verified-chunks`), as mounts, pins and pulls open it (pulls only on a
 * device that uses mounts), and the record of the chunks pins hold
 * (`$XDG_CACHE_HOME/tcfs/pinned-chunks/<namespace>`, one id a line). Whoever reads a namespace's
 * pins against all its heads (`tcfs pin`, a mount of the whole namespace) records their chunks
 * there, so that any process filling the cache (a pull of another namespace) keeps them too: pins
 * are kept by namespace and path, and only a reader of that namespace knows which chunks they are.
 *
 * @module
 */

import { join } from "node:path";
import { type ChunkCache, openChunkCache } from "./chunk_cache.ts";

/** The caches this process opened, by folder, with what each opener asked to keep. */
const opened = new Map<
  string,
  { cache: Promise<ChunkCache>; keeps: ((id: string) => boolean)[] }
>();

/**
 * The device's chunk cache below `cacheDir` (`$XDG_CACHE_HOME/tcfs`), bounded by `maxBytes`
 * (`[mount] cache_size`), opened once per process: the daemon's mounts and pulls share one
 * index. It never evicts the chunks recorded as pinned (read again when the record changes),
 * nor those any opener's `keep` accepts.
 *
 * @example
 * ```ts
 * const cache = await openDeviceChunkCache(config.paths.cacheDir, config.mount.cacheSize);
 * ```
 */
export function openDeviceChunkCache(
  cacheDir: string,
  maxBytes: number,
  keep?: (id: string) => boolean,
): Promise<ChunkCache> {
  const dir = join(cacheDir, "chunks");
  let known = opened.get(dir);
  if (!known) {
    const keeps: ((id: string) => boolean)[] = [];
    const pinned = pinnedChunksReader(cacheDir);
    const cache = openChunkCache(dir, maxBytes, {
      keep: (id) => pinned().has(id) || keeps.some((k) => k(id)),
      verifiedRecord: join(cacheDir, "verified-chunks"),
    });
    // A cache that failed to open is tried again by the next opener.
    cache.catch(() => opened.delete(dir));
    opened.set(dir, known = { cache, keeps });
  }
  if (keep) known.keeps.push(keep);
  return known.cache;
}

/**
 * The device's chunk cache for pulls, when this device uses it: `mounts` (`[mount] mounts`) lists
 * some, or a mount or `tcfs pin` made it already. Undefined otherwise: a device that only syncs
 * would write every pulled chunk a second time, for no reader.
 *
 * @example
 * ```ts
 * const cache = await pullChunkCache(config.paths.cacheDir, config.mount.cacheSize, config.mount.mounts);
 * ```
 */
export async function pullChunkCache(
  cacheDir: string,
  maxBytes: number,
  mounts: readonly string[],
): Promise<ChunkCache | undefined> {
  if (mounts.length === 0) {
    try {
      await Deno.stat(join(cacheDir, "chunks"));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  }
  return await openDeviceChunkCache(cacheDir, maxBytes);
}

/**
 * Records `ids` as the chunks `namespace`'s pins hold now (none: the record goes).
 *
 * @example
 * ```ts
 * await savePinnedChunks(config.paths.cacheDir, ctx.namespace, pinned.chunkIds);
 * ```
 */
export async function savePinnedChunks(
  cacheDir: string,
  namespace: string,
  ids: ReadonlySet<string>,
): Promise<void> {
  const dir = join(cacheDir, "pinned-chunks");
  const file = join(dir, encodeURIComponent(namespace));
  if (ids.size === 0) return await Deno.remove(file).catch(() => {});
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temp, [...ids].join("\n") + "\n", { mode: 0o600 });
  await Deno.rename(temp, file);
}

/** How long the record of pinned chunks is trusted before its folder is looked at again. */
const PINNED_RECHECK_MS = 5_000;

/**
 * Every namespace's recorded pinned chunks, read again when the record changed (a `tcfs pin` in
 * another process), looked at no more often than every {@linkcode PINNED_RECHECK_MS}.
 */
function pinnedChunksReader(cacheDir: string): () => ReadonlySet<string> {
  const dir = join(cacheDir, "pinned-chunks");
  let ids = new Set<string>();
  let checkedAt = -Infinity;
  let seen: number | undefined;
  return () => {
    const now = Date.now();
    if (now - checkedAt < PINNED_RECHECK_MS) return ids;
    checkedAt = now;
    let mtime: number | undefined;
    try {
      mtime = Deno.statSync(dir).mtime?.getTime();
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (mtime === seen) return ids;
    seen = mtime;
    ids = new Set();
    if (mtime === undefined) return ids;
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile || entry.name.includes(".tmp")) continue;
      for (const id of Deno.readTextFileSync(join(dir, entry.name)).split("\n")) {
        if (id) ids.add(id);
      }
    }
    return ids;
  };
}
