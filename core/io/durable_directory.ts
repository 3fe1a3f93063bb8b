/**
 * Making directory entries durable. A rename, a removal or a new folder lives in its
 * directory, not in the file: until that directory is fsynced, a power loss can bring back
 * the old entry even though the file's own bytes were flushed.
 *
 * @module
 */

import { dirname } from "node:path";
import { coalescedRuns } from "./coalesced_runs.ts";

/**
 * Flushes `dir`'s entries (renames, removals, new names in it) to disk.
 *
 * @example
 * ```ts
 * await Deno.rename(temp, target);
 * await syncDirectory(dirname(target));
 * ```
 */
export function syncDirectory(dir: string): Promise<void> {
  return directorySyncs(dir, async () => {
    using handle = await Deno.open(dir, { read: true });
    await handle.sync();
  });
}

/** A pull restoring many files into one folder makes one fsync of it for the lot. */
const directorySyncs = coalescedRuns();

/**
 * Creates `dir` and any missing parents (like `mkdir -p`), each made durable in its parent.
 *
 * @example
 * ```ts
 * await ensureDurableDirectory("/home/me/Sync/new/folder");
 * ```
 */
export async function ensureDurableDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = dir; dirname(at) !== at; at = dirname(at)) {
    try {
      await Deno.stat(at);
      break;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) break; // mkdir reports what is in the way
      missing.push(at);
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  for (const created of missing.reverse()) await syncDirectory(dirname(created));
}
