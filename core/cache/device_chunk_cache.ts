/**
 * The device's chunk cache (`$XDG_CACHE_HOME/tcfs/chunks`), as mounts, pins and pulls open it,
 * and the record of the chunks pins hold (`$XDG_CACHE_HOME/tcfs/pinned-chunks/<namespace>`, one
 * id a line). Whoever reads a namespace's pins against its heads (a mount, `tcfs pin`) records
 * their chunks there, so that any process filling the cache (a pull of another namespace) keeps
 * them too: pins are kept by namespace and path, and only a reader of that namespace knows
 * which chunks they are.
 *
 * @module
 */

import { join } from "node:path";
import { type ChunkCache, openChunkCache } from "./chunk_cache.ts";

/**
 * Opens the device's chunk cache below `cacheDir` (`$XDG_CACHE_HOME/tcfs`), bounded by
 * `maxBytes` (`[mount] cache_size`); it never evicts the chunks recorded as pinned, nor those
 * `keep` accepts.
 *
 * @example
 * ```ts
 * const cache = await openDeviceChunkCache(config.paths.cacheDir, config.mount.cacheSize);
 * ```
 */
export async function openDeviceChunkCache(
  cacheDir: string,
  maxBytes: number,
  keep?: (id: string) => boolean,
): Promise<ChunkCache> {
  const pinned = await readPinnedChunks(cacheDir);
  return await openChunkCache(join(cacheDir, "chunks"), maxBytes, {
    keep: (id) => pinned.has(id) || (keep?.(id) ?? false),
  });
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

/** Every namespace's recorded pinned chunks. */
async function readPinnedChunks(cacheDir: string): Promise<Set<string>> {
  const dir = join(cacheDir, "pinned-chunks");
  const ids = new Set<string>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || entry.name.includes(".tmp")) continue;
      const text = await Deno.readTextFile(join(dir, entry.name));
      for (const id of text.split("\n")) if (id) ids.add(id);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return ids;
}
