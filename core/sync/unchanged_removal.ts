/**
 * Applying a remote deletion to a local file. The file was checked for local edits
 * some awaits earlier; an edit saved since must not be lost, so the file is stat'ed
 * again right before it is removed, as a restore does right before its rename.
 *
 * @module
 */

import { dirname } from "node:path";
import { type LocalEntry, statEntry } from "./local_scanner.ts";
import { inLinkFreeFolder } from "../paths/link_free_folder.ts";
import { syncDirectory } from "../io/durable_directory.ts";

/**
 * True when two stats of one path show the same file, unedited.
 *
 * @example
 * ```ts
 * if (!sameEntryStat(await statEntry(path, rel), seen)) keepLocalEdit();
 * ```
 */
export function sameEntryStat(a: LocalEntry, b: LocalEntry): boolean {
  return a.kind === b.kind && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino &&
    a.target === b.target;
}

/**
 * Removes `seen.localPath` if it still is the file `seen` describes. Returns false,
 * leaving it in place, when it changed since; true when it is gone. Every folder below
 * `within` on the way must be a real one: a removal never goes through a link.
 *
 * @example
 * ```ts
 * if (!await removeIfUnchanged(local, "/home/me/Sync")) return "kept_modified";
 * ```
 */
export function removeIfUnchanged(seen: LocalEntry, within: string): Promise<boolean> {
  return inLinkFreeFolder(within, dirname(seen.localPath), async () => {
    const now = await statEntry(seen.localPath, seen.rel);
    if (!now) return true;
    if (!sameEntryStat(now, seen)) return false;
    await Deno.remove(seen.localPath);
    return true;
  });
}

/**
 * Removes the file `seen` describes unless it changed since (gone already is as good: a pull
 * of the folder it was in may have removed it), and makes that durable before the state says
 * so; a removal lost to a power cut would come back as a new file and be pushed again.
 * Returns false, leaving the file, when it changed.
 *
 * @example
 * ```ts
 * if (await removeDurably(local, "/home/me/Sync")) adoptDeletion(ctx, rel, local.localPath, head);
 * ```
 */
export async function removeDurably(seen: LocalEntry, within: string): Promise<boolean> {
  if (!await removeIfUnchanged(seen, within)) return false;
  await syncDirectory(dirname(seen.localPath));
  return true;
}
