/**
 * A local folder standing where the remote now has a file or a symlink (another device
 * replaced the folder). It may go only when nothing in it would be lost: every file that was
 * below it is a synced, unmodified one that the remote deleted too, and the pull has removed
 * (or, in a dry run, would remove) those. Folders themselves hold no content, so a tree of
 * empty folders may go; a single other file keeps the whole folder, and the path fails alone.
 *
 * @module
 */

import { join } from "node:path";
import { TcfsError } from "../errors.ts";

/**
 * Throws `path_blocked` unless `canGo` accepts every entry below the folder `dir` other than a
 * folder (each a local path the pull deletes, or may delete).
 *
 * @example
 * ```ts
 * await assertFolderCanGo("/home/me/Sync/report", (file) => Promise.resolve(goingAway.has(file)));
 * ```
 */
export async function assertFolderCanGo(
  dir: string,
  canGo: (file: string) => Promise<boolean>,
): Promise<void> {
  for (const entry of await entriesBelow(dir)) {
    if (!entry.folder && !await canGo(entry.path)) throw folderInTheWay(dir, entry.path);
  }
}

/**
 * Removes `dir` and the empty folders below it, deepest first; a file that appeared meanwhile
 * stops it (`path_blocked`) with that file and its folders kept.
 *
 * @example
 * ```ts
 * await removeEmptyFolder("/home/me/Sync/report");
 * ```
 */
export async function removeEmptyFolder(dir: string): Promise<void> {
  const folders = (await entriesBelow(dir)).filter((e) => e.folder).map((e) => e.path);
  for (const folder of [...folders.reverse(), dir]) {
    try {
      // Not recursive: only an empty folder can go, whatever was added since the check.
      await Deno.remove(folder);
    } catch (err) {
      if ((err as { code?: string }).code === "ENOTEMPTY") throw folderInTheWay(dir, folder);
      throw err;
    }
  }
}

/** Every entry below `dir`, parents before their children; symlinks are not followed. */
async function entriesBelow(dir: string): Promise<{ path: string; folder: boolean }[]> {
  const found: { path: string; folder: boolean }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    const folder = entry.isDirectory && !entry.isSymlink;
    found.push({ path, folder });
    if (folder) found.push(...await entriesBelow(path));
  }
  return found;
}

function folderInTheWay(dir: string, holding: string): TcfsError {
  return new TcfsError(
    `${dir} is a folder here but a file or symlink remotely, and ${holding} in it is not a ` +
      "synced deletion; kept the folder",
    {
      kind: "path_blocked",
      hint: "move what is in the folder elsewhere (or push it under another name), then pull again",
    },
  );
}
