/**
 * What a folder holds, for tests of the chunk cache's bound: its files' sizes, counted while
 * another process may be putting and evicting chunks.
 *
 * @module
 */

import { join } from "node:path";

/**
 * Path → size of every file below `dir`; one removed between the listing and its stat (evicted
 * meanwhile) is left out.
 *
 * @example
 * ```ts
 * const before = await filesUnder(join(home, ".cache/tcfs/chunks"));
 * ```
 */
export async function filesUnder(
  dir: string,
  out = new Map<string, number>(),
): Promise<Map<string, number>> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await filesUnder(path, out);
    else {
      const info = await Deno.stat(path).catch((err) => {
        if (err instanceof Deno.errors.NotFound) return undefined;
        throw err;
      });
      if (info) out.set(path, info.size);
    }
  }
  return out;
}

/**
 * Bytes of the files below `dir`.
 *
 * @example
 * ```ts
 * assert.ok(await bytesUnder(chunks) <= 4 * MiB);
 * ```
 */
export async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const size of (await filesUnder(dir)).values()) total += size;
  return total;
}

/**
 * Bytes of the files below `dir` once two listings 200 ms apart agree. A listing taken while a
 * process still puts and evicts (a mount's read-ahead finishing after the read that started it)
 * can count an evicted file in one shard and its replacement in the next, more than was ever
 * there at once; a settled one cannot. Throws after `ms` without agreement.
 *
 * @example
 * ```ts
 * assert.ok(await settledBytesUnder(chunks) <= 4 * MiB);
 * ```
 */
export async function settledBytesUnder(dir: string, ms = 10_000): Promise<number> {
  const deadline = Date.now() + ms;
  let last = await filesUnder(dir);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await filesUnder(dir);
    if (sameFiles(last, now)) return [...now.values()].reduce((sum, size) => sum + size, 0);
    if (Date.now() > deadline) throw new Error(`${dir} kept changing for ${ms} ms`);
    last = now;
  }
}

function sameFiles(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([path, size]) => b.get(path) === size);
}
