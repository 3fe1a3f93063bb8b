/**
 * `lstat` for paths that may well be absent.
 *
 * @module
 */

/**
 * The path's own file info (a link is not followed), or undefined when nothing is there.
 *
 * @example
 * ```ts
 * const info = lstatIfPresent("/run/tcfsd.sock");
 * if (info?.isSymlink) console.log("a link");
 * ```
 */
export function lstatIfPresent(path: string): Deno.FileInfo | undefined {
  try {
    // Synchronous: an awaited lstat costs about ten times as much, and syncs make many.
    return Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}
