/**
 * Removing the temp files a killed tcfs left in a sync root. Files are restored as
 * `.<name>.tcfs-tmp-<8 hex>` and renamed into place; a kill between the two leaves the temp.
 * Such a file is never synced (the exclude matcher skips it) and never complete in anyone's
 * eyes, so removing it loses nothing.
 *
 * @module
 */

import { join } from "node:path";

/** The names `restoreVersion` gives its temp files. */
const TEMP_NAME = /^\..+\.tcfs-tmp-[0-9a-f]{8}$/;

/**
 * Removes every tcfs temp file below `root` and returns their paths. Symlinked folders are not
 * followed.
 *
 * @example
 * ```ts
 * const removed = await sweepTempFiles("/home/me/Sync");
 * ```
 */
export async function sweepTempFiles(root: string): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied) {
        return;
      }
      throw err;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await visit(path);
      else if (entry.isFile && TEMP_NAME.test(entry.name)) {
        await Deno.remove(path).catch(() => {});
        removed.push(path);
      }
    }
  };
  await visit(root);
  return removed;
}
