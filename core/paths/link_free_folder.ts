/**
 * tcfs never writes through a symlink. Links from the store are data, recreated exactly as
 * they were (absolute or relative), so one may point anywhere; what keeps tcfs's writes where
 * they belong is that every folder between a trusted folder (the one the user named) and the
 * entry tcfs creates, replaces or removes is a real folder, checked with lstat right before
 * the change.
 *
 * A pull writes up to 32 paths at once, and one path's restore may turn a folder into a link
 * (a remote `d -> /elsewhere` next to `d/x.txt`). So every check and the change it guards run
 * under one lock held by the whole process: no other tcfs change to the tree can slip between
 * them. Only the brief directory operations run under it (mkdir, create, rename, remove); the
 * bytes of a file are written through the handle opened there, outside it.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { TcfsError } from "../errors.ts";
import { syncDirectory } from "../io/durable_directory.ts";
import { lstatIfPresent } from "../io/lstat_if_present.ts";
import { createTurns } from "../concurrency/turns.ts";
import { leadsOutside } from "./leads_outside.ts";

/** One line for the whole process: no tcfs change to the tree slips between a check and its change. */
const inTurn = createTurns();

/** Options for {@linkcode inLinkFreeFolder}. */
export interface LinkFreeOptions {
  /** Create the missing folders below `within`, each made durable in its parent (`onCreated`). */
  create?: boolean;
  /**
   * Makes a created folder durable in `parent` (by default an fsync of the parent), before
   * anything else of this process can see the folder: a caller whose flush covers the whole
   * filesystem holds the parent's for it (`restore_durability.ts`).
   */
  onCreated?: (parent: string) => Promise<void> | void;
  /**
   * Folders one operation (a pull) has already checked, from {@linkcode checkedFolders}: checked
   * again only once a change of this process may have replaced them.
   */
  checked?: CheckedFolders;
  /**
   * The one entry of `dir` the change creates, replaces or removes, when the caller knows it:
   * then only what `checked` holds at or below it is dropped, instead of every folder below
   * `dir` (a pull of many files into one folder would otherwise scan `checked` per file).
   */
  entry?: string;
}

/** Folders found to be real folders during one operation. */
export type CheckedFolders = Set<string>;

/**
 * A record of checked folders for one operation, such as a pull of many files into one tree: each
 * folder on the way is then checked once, not once per file. A change made through
 * {@linkcode inLinkFreeFolder} drops the folders below the one it changed, since it may have put
 * a link where one stood. Keep it no longer than the operation: between operations the user may
 * turn a folder into a link, which only a fresh check sees.
 *
 * @example
 * ```ts
 * const checked = checkedFolders();
 * await inLinkFreeFolder(root, dir, change, { checked });
 * ```
 */
export function checkedFolders(): CheckedFolders {
  return new Set();
}

/**
 * Runs `change` once every folder from below `within` down to `dir` is checked to be a real
 * folder (not a symlink), with no other tcfs change to the tree in between. `within` itself is
 * trusted (it may be a link the user made); `dir` must be `within` or below it.
 *
 * @example
 * ```ts
 * await inLinkFreeFolder("/home/me/Sync", "/home/me/Sync/docs", () => Deno.remove(file));
 * ```
 */
export function inLinkFreeFolder<T>(
  within: string,
  dir: string,
  change: () => Promise<T>,
  options: LinkFreeOptions = {},
): Promise<T> {
  const { checked } = options;
  return inTurn(async () => {
    await assertLinkFree(within, dir, options);
    try {
      return await change();
    } finally {
      if (checked) forgetBelow(checked, options.entry ?? dir, options.entry === undefined);
    }
  });
}

/**
 * Drops from `checked` the folders a change at `changed` may have replaced: those below it and,
 * for a changed entry (not a whole folder), the entry itself. Nothing below an entry can have
 * been checked unless the entry was, as a folder on the way: that spares the scan per file.
 */
function forgetBelow(checked: CheckedFolders, changed: string, wholeFolder: boolean): void {
  if (!wholeFolder) {
    if (!checked.has(changed)) return;
    checked.delete(changed);
  }
  const below = `${changed}/`;
  for (const folder of checked) if (folder.startsWith(below)) checked.delete(folder);
}

async function assertLinkFree(
  within: string,
  dir: string,
  { create, onCreated, checked }: LinkFreeOptions,
): Promise<void> {
  const below = relative(within, dir);
  if (leadsOutside(below)) {
    throw new TcfsError(`${dir} is not inside ${within}`, {
      kind: "unsafe_path",
      hint: "this is a bug in tcfs; please report it",
    });
  }
  let current = within;
  for (const segment of below === "" ? [] : below.split("/")) {
    current = join(current, segment);
    if (checked?.has(current)) continue;
    let info = lstatIfPresent(current);
    if (!info && create) {
      // Synchronous: it takes microseconds, under the process-wide lock, where an awaited
      // call's hand-off to a thread costs more.
      Deno.mkdirSync(current);
      await (onCreated ?? syncDirectory)(dirname(current));
      info = lstatIfPresent(current);
    }
    if (!info) {
      throw new TcfsError(`${current} is gone`, {
        kind: "path_blocked",
        hint: "something removed the folder during the sync; run it again",
      });
    }
    if (info.isSymlink) {
      throw new TcfsError(
        `refusing to write below ${current}: it is a symlink, and tcfs never writes through one`,
        {
          kind: "unsafe_path",
          hint: "replace the symlink with a real folder, or exclude the path",
        },
      );
    }
    if (!info.isDirectory) {
      throw new TcfsError(`cannot write below ${current}: it is not a folder`, {
        kind: "path_blocked",
        hint: "move the file that is in the way, then sync again",
      });
    }
    checked?.add(current);
  }
}

/**
 * The folder that trusted `localPath`'s place before tcfs created anything for `rel`: the
 * folders `localPath` and `rel` end with in common are the ones a pull may have made, so they
 * are checked; the rest is where the user put the sync root or target.
 *
 * @example
 * ```ts
 * mappedRoot("/home/me/mydocs/sub/a.txt", "docs/sub/a.txt"); // "/home/me/mydocs"
 * ```
 */
export function mappedRoot(localPath: string, rel: string): string {
  let root = dirname(localPath);
  for (const segment of rel.split("/").slice(0, -1).reverse()) {
    if (root.split("/").at(-1) !== segment) break;
    root = dirname(root);
  }
  return root;
}
