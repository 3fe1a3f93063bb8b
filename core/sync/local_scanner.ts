/**
 * Walks a local folder and reports what could be synced: regular files and
 * symlinks (never followed), minus excluded paths. Other kinds (sockets,
 * devices, FIFOs) are skipped.
 *
 * @module
 */

import { join } from "node:path";
import { joinRel } from "../paths/remote_path.ts";

/** One syncable entry, with the stat the change cache compares. */
export interface LocalEntry {
  /** Path relative to the scanned folder, `/`-separated. */
  rel: string;
  localPath: string;
  kind: "file" | "symlink";
  size: number;
  mtimeMs: number;
  ino: number | null;
  mode: number;
  target?: string;
}

/**
 * Stats one path as a {@linkcode LocalEntry}, or undefined when it is missing
 * or not a file/symlink.
 *
 * @example
 * ```ts
 * const entry = await statEntry("/home/me/a.txt", "a.txt");
 * ```
 */
export async function statEntry(localPath: string, rel: string): Promise<LocalEntry | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(localPath);
  } catch (err) {
    if (isMissingPath(err)) return undefined;
    throw err;
  }
  if (info.isSymlink) {
    return {
      ...statFields(info, rel, localPath),
      kind: "symlink",
      size: 0,
      target: await Deno.readLink(localPath),
    };
  }
  if (info.isFile) return { ...statFields(info, rel, localPath), kind: "file" };
  return undefined;
}

/**
 * True for an error saying nothing is at the path: it is missing, or a file stands where a
 * folder on the way would be (a folder replaced by a file keeps nothing below it).
 *
 * @example
 * ```ts
 * const info = await Deno.lstat(path).catch((err) => isMissingPath(err) ? undefined : Promise.reject(err));
 * ```
 */
export function isMissingPath(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory;
}

/**
 * Yields every syncable entry below `root`, depth first, sorted by name.
 *
 * @example
 * ```ts
 * for await (const entry of scanFolder("/home/me/Sync", excluded)) console.log(entry.rel);
 * ```
 */
export async function* scanFolder(
  root: string,
  excluded: (rel: string) => boolean,
  relBase = "",
): AsyncGenerator<LocalEntry> {
  const names: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(root)) names.push(entry);
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    const rel = joinRel(relBase, entry.name);
    if (excluded(rel)) continue;
    const localPath = join(root, entry.name);
    if (entry.isDirectory && !entry.isSymlink) {
      yield* scanFolder(localPath, excluded, rel);
    } else {
      const found = await statEntry(localPath, rel);
      if (found) yield found;
    }
  }
}

function statFields(info: Deno.FileInfo, rel: string, localPath: string) {
  return {
    rel,
    localPath,
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    ino: info.ino,
    mode: (info.mode ?? 0o644) & 0o7777,
  };
}
