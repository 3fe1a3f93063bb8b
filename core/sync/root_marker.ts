/**
 * The root marker: a file `.tcfs-root` inside the sync root says "this folder is the sync
 * root, really there". An unmounted drive leaves an empty mount point behind, and an empty
 * root pushed as it is would delete every file on every device; without the marker, the root
 * is not synced. The marker itself is never synced.
 *
 * @module
 */

import { join } from "node:path";
import { TcfsError } from "../errors.ts";

/** The marker's file name, inside the sync root. */
export const ROOT_MARKER = ".tcfs-root";

/** What {@linkcode prepareSyncRoot} found or did to the marker. */
export type RootMarkerOutcome = "present" | "created" | "adopted";

/** Options for {@linkcode prepareSyncRoot}. */
export interface RootPreparation {
  /**
   * False for a dry run: refuse what would be refused, but create no folder or marker. The
   * outcome is then what a real run would do.
   */
  write?: boolean;
}

async function hasRootMarker(root: string): Promise<boolean> {
  return await isPresent(join(root, ROOT_MARKER));
}

/**
 * Makes sure the existing folder `root` has its marker where that is safe: when nothing was
 * ever synced from it (a new root), or when at least one synced path is there (a root synced
 * before markers existed). A root where none of the paths synced from it is found is refused:
 * that is what an unmounted drive looks like, even with a stray `.DS_Store` in its mount point.
 *
 * @param syncedFrom Lists the local paths of the live tracked rows below `root` (asked only
 *   when the marker is missing).
 */
async function ensureRootMarker(
  root: string,
  syncedFrom: () => string[],
  options: RootPreparation,
): Promise<RootMarkerOutcome> {
  if (await hasRootMarker(root)) return "present";
  const synced = syncedFrom();
  if (synced.length > 0 && !await anyPresent(synced)) {
    throw new TcfsError(
      `${root} has no ${ROOT_MARKER} marker and none of the ${synced.length} files synced ` +
        `from it is there: is the drive mounted?`,
      {
        kind: "root_marker_missing",
        hint: `mount it (syncing resumes by itself); nothing is deleted remotely meanwhile. ` +
          `If the files are meant to be gone, create the marker: touch ${join(root, ROOT_MARKER)}`,
      },
    );
  }
  if (options.write ?? true) {
    await Deno.writeFile(join(root, ROOT_MARKER), new Uint8Array(), { createNew: true })
      .catch((err) => {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      });
  }
  return synced.length === 0 ? "created" : "adopted";
}

/**
 * Gets the sync root ready to sync: a missing root is created when nothing was ever synced
 * from it (and refused otherwise: a missing root is an unmounted drive, never "every file was
 * deleted"), then its marker is made sure of: written for a new root, adopted where a synced path is
 * there, and refused where none is.
 *
 * @param syncedFrom Lists the local paths of the live tracked rows below `root`.
 * @throws {TcfsError} kind `sync_root_missing` or `root_marker_missing`.
 *
 * @example
 * ```ts
 * await prepareSyncRoot("/home/me/Sync", () => state.syncedPathsFrom("/home/me/Sync"));
 * ```
 */
export async function prepareSyncRoot(
  root: string,
  syncedFrom: () => string[],
  options: RootPreparation = {},
): Promise<RootMarkerOutcome> {
  const info = await Deno.stat(root).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  });
  if (!info) {
    if (syncedFrom().length > 0) {
      throw new TcfsError(`the sync root ${root} is missing, but files were synced from it`, {
        kind: "sync_root_missing",
        hint: "mount or restore it (syncing resumes by itself), or set [sync] sync_root to " +
          "another folder; nothing is deleted remotely meanwhile",
      });
    }
    if (!(options.write ?? true)) return "created";
    await Deno.mkdir(root, { recursive: true });
  } else if (!info.isDirectory) {
    throw new TcfsError(`the sync root ${root} is not a folder`, {
      kind: "sync_root_missing",
      hint: "set [sync] sync_root to a folder",
    });
  }
  return await ensureRootMarker(root, syncedFrom, options);
}

/**
 * Whether `localPath` is the sync root or inside it, where a push or pull needs the root
 * prepared.
 *
 * @example
 * ```ts
 * isInSyncRoot("/home/me/Sync/docs", "/home/me/Sync"); // true
 * ```
 */
export function isInSyncRoot(localPath: string, syncRoot: string): boolean {
  return localPath === syncRoot || localPath.startsWith(syncRoot + "/");
}

async function anyPresent(paths: string[]): Promise<boolean> {
  for (const path of paths) {
    if (await isPresent(path)) return true;
  }
  return false;
}

async function isPresent(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw err;
  }
}
