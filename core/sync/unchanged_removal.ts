/**
 * Applying a remote deletion to a local file. The file was checked for local edits
 * some awaits earlier; an edit saved since must not be lost, so the file is stat'ed
 * again right before it is removed, as a restore does right before its rename.
 *
 * @module
 */

import { type LocalEntry, statEntry } from "./local_scanner.ts";

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
 * leaving it in place, when it changed since; true when it is gone.
 *
 * @example
 * ```ts
 * if (!await removeIfUnchanged(local)) return "kept_modified";
 * ```
 */
export async function removeIfUnchanged(seen: LocalEntry): Promise<boolean> {
  const now = await statEntry(seen.localPath, seen.rel);
  if (!now) return true;
  if (!sameEntryStat(now, seen)) return false;
  await Deno.remove(seen.localPath);
  return true;
}
