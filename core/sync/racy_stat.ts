/**
 * Racily clean stats. A file's mtime comes from a coarse clock (a kernel tick of a few
 * milliseconds; whole seconds on some file systems, two on FAT), so a rewrite of the same size
 * within one tick of a stat leaves every field of the stat as it was. A stat taken while its
 * mtime was that recent cannot vouch for the content read after it: the tracked row made from
 * it is marked racy, and whatever later compares the file with that row compares digests,
 * even when the stat still matches (git's "racy clean" entries, for the same reason).
 *
 * @module
 */

/**
 * How recent an mtime makes a stat racy: more than the coarsest timestamp tick of the file
 * systems tcfs meets (FAT's two seconds). An mtime in the future is racy too.
 */
export const RACY_WINDOW_MS = 2000;

/**
 * True when a stat with this mtime, taken at `statAtMs`, cannot tell a later same-size
 * rewrite from no change.
 *
 * @example
 * ```ts
 * const racy = isRacyStat(info.mtime!.getTime(), Date.now());
 * ```
 */
export function isRacyStat(mtimeMs: number, statAtMs: number): boolean {
  return mtimeMs > statAtMs - RACY_WINDOW_MS;
}
