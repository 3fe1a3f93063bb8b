/**
 * Walks a local folder and reports what could be synced: regular files and
 * symlinks (never followed), minus excluded paths. Other kinds (sockets,
 * devices, FIFOs) are skipped.
 *
 * @module
 */

import { normalize } from "node:path";
import { comparePaths } from "../paths/path_order.ts";
import { isRacyStat } from "./racy_stat.ts";
import { isMissingPath, lstatIfPresent } from "../io/lstat_if_present.ts";

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
  /**
   * Its mtime was that recent when it was stat'ed (`racy_stat.ts`): a rewrite of the same size
   * in the same tick would not show in the stat, so a row recorded from it is checked by digest.
   */
  racy: boolean;
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
export async function statEntry(
  localPath: string,
  rel: string,
): Promise<LocalEntry | undefined> {
  const statAtMs = Date.now();
  const info = lstatIfPresent(localPath);
  return info && await entryFromInfo(info, localPath, rel, statAtMs);
}

/**
 * {@linkcode statEntry} for a path whose `info` (from lstat) the caller already holds, taken
 * no earlier than `statAtMs` (`racy_stat.ts`).
 *
 * @example
 * ```ts
 * const statAtMs = Date.now();
 * const entry = await entryFromInfo(Deno.lstatSync(path), path, "a.txt", statAtMs);
 * ```
 */
export async function entryFromInfo(
  info: Deno.FileInfo,
  localPath: string,
  rel: string,
  statAtMs: number,
): Promise<LocalEntry | undefined> {
  const target = info.isSymlink ? await Deno.readLink(localPath) : undefined;
  return entryOf(info, rel, localPath, target, statAtMs);
}

/**
 * A path a user named, as a push or status takes it: a symlink to a folder is the folder (as
 * `cp -rH` and `rsync` take it, and as a pull writes into it); anything else is `info`, its own.
 *
 * @example
 * ```ts
 * const info = await namedPathInfo("/home/me/docs", await Deno.lstat("/home/me/docs"));
 * if (info.isDirectory) for await (const e of scanFolder("/home/me/docs", excluded)) {}
 * ```
 */
export async function namedPathInfo(path: string, info: Deno.FileInfo): Promise<Deno.FileInfo> {
  if (!info.isSymlink) return info;
  const target = await Deno.stat(path).catch(() => undefined);
  return target?.isDirectory ? target : info;
}

/**
 * Yields every syncable entry below `root`, in path order ({@linkcode comparePaths}): the
 * order of the state database's rows, so a push or a status merges the scan with them in one
 * pass.
 *
 * The walk uses the file system's synchronous calls: an awaited lstat costs about ten times a
 * synchronous one in Deno 2.9.6 (a 10,000-file tree: 900 ms against 95 ms), and a scan is
 * nothing but such calls. So that a daemon's other work still runs during a long scan, the
 * walk lets the event loop turn every {@linkcode SCAN_TURN_ENTRIES} entries.
 *
 * `onExcluded` is told of each entry an exclude rule skips (a folder's, not what lies below
 * it): a push finds tcfs's temp files that way without a walk of its own. `onUnreadable` is
 * told of each entry the walk cannot look at, and why, and the walk goes on without it: a name
 * that is not valid UTF-8 (an old Latin-1 name, a zip from Windows), which Deno lists with
 * U+FFFD in place of the bytes it cannot decode, so that no path made from it reaches the
 * entry; a symlink whose target is not valid UTF-8, which Deno cannot read; a folder this user
 * may not read. Without `onUnreadable`, such a link is passed over unsaid.
 *
 * With `after` (a path as the entries' `rel`), only the entries past it come, and folders that
 * lie wholly before it are not read: a push's second pass resumes where it stopped holding.
 *
 * @example
 * ```ts
 * for await (const entry of scanFolder("/home/me/Sync", excluded)) console.log(entry.rel);
 * ```
 */
export async function* scanFolder(
  root: string,
  excluded: (rel: string) => boolean,
  onExcluded?: (dir: string, entry: Deno.DirEntry) => void,
  onUnreadable?: (rel: string, why: string) => void,
  after?: string,
): AsyncGenerator<LocalEntry> {
  let sinceTurn = 0;
  // Depth first, a folder sorted as its name and a "/": what lies below "a" comes after
  // "a.txt" and before "a0", as its paths do. `from` is `after` while this folder's entries
  // may still lie before it.
  const walk = function* (dir: string, relBase: string, from?: string): Generator<LocalEntry> {
    const sortName = (entry: Deno.DirEntry) =>
      entry.isDirectory && !entry.isSymlink ? `${entry.name}/` : entry.name;
    let listed: Deno.DirEntry[];
    try {
      listed = [...Deno.readDirSync(dir)];
    } catch (err) {
      // Removed since its parent was listed (a build, a checkout): nothing below it is there.
      if (relBase !== "" && isMissingPath(err)) return;
      // Said only to a caller that can keep its files from counting as deleted (a push).
      if (relBase !== "" && err instanceof Deno.errors.PermissionDenied && onUnreadable) {
        return onUnreadable(relBase, UNREADABLE_FOLDER);
      }
      throw err;
    }
    const entries = listed.map((entry) => ({ entry, key: sortName(entry) }));
    entries.sort((a, b) => comparePaths(a.key, b.key));
    for (const { entry, key } of entries) {
      const rel = relBase === "" ? entry.name : `${relBase}/${entry.name}`;
      const sortPath = relBase === "" ? key : `${relBase}/${key}`;
      // A folder's paths all start with `sortPath`: unless `from` is among them, they lie
      // wholly on one side of it.
      const holdsFrom = from !== undefined && key !== entry.name && from.startsWith(sortPath);
      if (from !== undefined && !holdsFrom) {
        if (comparePaths(sortPath, from) <= 0) continue;
        from = undefined;
      }
      if (excluded(rel)) {
        onExcluded?.(dir, entry);
        continue;
      }
      const localPath = childPath(dir, entry.name);
      if (entry.name.includes("\uFFFD") && !lstatIfPresent(localPath)) {
        onUnreadable?.(rel, UNREADABLE_NAME);
        continue;
      }
      if (entry.isDirectory && !entry.isSymlink) {
        yield* walk(localPath, rel, holdsFrom ? from : undefined);
        continue;
      }
      let found;
      try {
        found = statEntrySync(localPath, rel);
      } catch (err) {
        if (!isUnreadableLink(err)) throw err;
        onUnreadable?.(rel, UNREADABLE_LINK);
        continue;
      }
      if (found) yield found;
    }
  };
  for (const found of walk(normalize(root), "", after)) {
    yield found;
    if (++sinceTurn >= SCAN_TURN_ENTRIES) {
      sinceTurn = 0;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

/**
 * `join(dir, name)` for a normalized `dir` and a name it lists (never with a "/"), without
 * normalizing again: a scan makes one per entry, and join cost more than the rest of the walk.
 */
function childPath(dir: string, name: string): string {
  if (dir === "." || dir === "./") return name;
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

const UNREADABLE_NAME = "its name is not valid UTF-8, so tcfs cannot open it (shown with " +
  "U+FFFD for the bytes it cannot read); rename it, e.g. `convmv -f latin1 -t utf8 --notest <path>`";
/** What a push says of a link {@linkcode isUnreadableLink} is true of. */
export const UNREADABLE_LINK = "the symlink's target is not valid UTF-8, so tcfs cannot read " +
  "it; nothing was pushed or deleted for it: point it at a UTF-8 name (`ln -sfn <name> <link>`)";
const UNREADABLE_FOLDER = "this user may not read the folder; nothing in it was pushed or " +
  "deleted: give it read and search permission (chmod u+rx), or exclude it";

/**
 * True for the error of reading a link whose target is not valid UTF-8, which Deno refuses to
 * read ({@linkcode UNREADABLE_LINK} says what to do).
 *
 * @example
 * ```ts
 * try { entry = await statEntry(path, rel); } catch (err) { if (!isUnreadableLink(err)) throw err; }
 * ```
 */
export function isUnreadableLink(err: unknown): boolean {
  return err instanceof Deno.errors.InvalidData;
}

/** Entries a scan reads between two turns of the event loop. */
export const SCAN_TURN_ENTRIES = 2000;

/** {@linkcode statEntry} with synchronous calls, for the scanner. */
function statEntrySync(localPath: string, rel: string): LocalEntry | undefined {
  const statAtMs = Date.now();
  const info = lstatIfPresent(localPath);
  if (!info) return undefined;
  const target = info.isSymlink ? Deno.readLinkSync(localPath) : undefined;
  return entryOf(info, rel, localPath, target, statAtMs);
}

/**
 * The entry `info` describes at `localPath`: a file, a symlink (with its `target`, which the
 * caller read or made), or nothing tcfs syncs (undefined). `statAtMs` is no later than the
 * stat (`racy_stat.ts`).
 *
 * @example
 * ```ts
 * const statAtMs = Date.now();
 * const entry = entryOf(file.statSync(), "a.txt", "/home/me/Sync/a.txt", undefined, statAtMs);
 * ```
 */
export function entryOf(
  info: Deno.FileInfo,
  rel: string,
  localPath: string,
  target: string | undefined,
  statAtMs: number,
): LocalEntry | undefined {
  if (info.isSymlink) {
    const fields = statFields(info, rel, localPath, statAtMs);
    return { ...fields, kind: "symlink", size: 0, target: target! };
  }
  if (info.isFile) return { ...statFields(info, rel, localPath, statAtMs), kind: "file" };
  return undefined;
}

function statFields(info: Deno.FileInfo, rel: string, localPath: string, statAtMs: number) {
  const mtimeMs = info.mtime?.getTime() ?? 0;
  return {
    rel,
    localPath,
    size: info.size,
    mtimeMs,
    ino: info.ino,
    mode: (info.mode ?? 0o644) & 0o7777,
    racy: isRacyStat(mtimeMs, statAtMs),
  };
}
