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
 * const info = await lstatIfPresent("/run/tcfsd.sock");
 * if (info?.isSymlink) console.log("a link");
 * ```
 */
export async function lstatIfPresent(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}
