/**
 * Making directory entries durable. A rename, a removal or a new folder lives in its
 * directory, not in the file: until that directory is fsynced, a power loss can bring back
 * the old entry even though the file's own bytes were flushed.
 *
 * @module
 */

import { dirname } from "node:path";

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
  // Callers that come while a sync of `dir` waits to start share it: it starts after each of
  // their changes, so it covers them all. A pull restoring many files into one folder then
  // makes one fsync for the lot instead of one per file.
  const waiting = waitingSyncs.get(dir);
  if (waiting) return waiting;
  const before = runningSyncs.get(dir) ?? Promise.resolve();
  const sync = before.catch(() => {}).then(async () => {
    waitingSyncs.delete(dir);
    runningSyncs.set(dir, sync);
    try {
      using handle = await Deno.open(dir, { read: true });
      await handle.sync();
    } finally {
      if (runningSyncs.get(dir) === sync) runningSyncs.delete(dir);
    }
  });
  waitingSyncs.set(dir, sync);
  return sync;
}

/** The sync of each folder that has not started yet; joining it covers a change made now. */
const waitingSyncs = new Map<string, Promise<void>>();
/** The sync of each folder under way, which may have begun before a caller's change. */
const runningSyncs = new Map<string, Promise<void>>();

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
