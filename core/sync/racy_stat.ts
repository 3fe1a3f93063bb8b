/**
 * Racily clean stats. A file's mtime comes from a coarse clock (a kernel tick of a few
 * milliseconds; whole seconds on some file systems, two on FAT), so a rewrite of the same size
 * within one tick of a stat leaves every field of the stat as it was. The clock is read
 * before the stat: read after, a stat held up by a busy machine would look older than it is. A stat taken while its
 * mtime was that recent cannot vouch for the content read after it: the tracked row made from
 * it is marked racy, and whatever later compares the file with that row compares digests,
 * even when the stat still matches (git's "racy clean" entries, for the same reason).
 *
 * @module
 */

/**
 * How recent an mtime makes a stat racy when the file system keeps finer than whole seconds:
 * ten times the coarsest kernel tick (10 ms at 100 Hz).
 */
export const RACY_WINDOW_MS = 100;

/**
 * The same for an mtime on a whole second, which may come from a file system that keeps
 * seconds (ext3, HFS+) or two (FAT); one in a thousand finer mtimes pays it too.
 */
export const RACY_WINDOW_WHOLE_SECONDS_MS = 2000;

/**
 * True when a stat with this mtime, taken no earlier than `statAtMs`, cannot tell a later
 * same-size rewrite from no change. An mtime in the future is racy too.
 *
 * @example
 * ```ts
 * const statAtMs = Date.now();
 * const info = Deno.lstatSync(path);
 * const racy = isRacyStat(info.mtime!.getTime(), statAtMs);
 * ```
 */
export function isRacyStat(mtimeMs: number, statAtMs: number): boolean {
  const window = mtimeMs % 1000 === 0 ? RACY_WINDOW_WHOLE_SECONDS_MS : RACY_WINDOW_MS;
  return mtimeMs > statAtMs - window;
}
