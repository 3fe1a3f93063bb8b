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

/** What {@linkcode ensureRootMarker} found or did. */
export type RootMarkerOutcome = "present" | "created" | "adopted";

/** Options for {@linkcode prepareSyncRoot} and {@linkcode ensureRootMarker}. */
export interface RootPreparation {
  /**
   * False for a dry run: refuse what would be refused, but create no folder or marker. The
   * outcome is then what a real run would do.
   */
  write?: boolean;
}

/**
 * Whether `root` holds the marker.
 *
 * @example
 * ```ts
 * if (!await hasRootMarker("/home/me/Sync")) console.log("not a sync root (yet)");
 * ```
 */
export async function hasRootMarker(root: string): Promise<boolean> {
  try {
    await Deno.lstat(join(root, ROOT_MARKER));
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Makes sure the existing folder `root` has its marker where that is safe: when nothing was
 * ever synced from it (`synced` = 0: a new root), or when it holds files (a root synced before
 * markers existed). An empty root that files were synced from is refused: that is what an
 * unmounted drive looks like.
 *
 * @param synced Counts the live tracked paths synced from below `root` (asked only when the
 *   marker is missing).
 * @throws {TcfsError} kind `root_marker_missing` for an empty root that files were synced from.
 *
 * @example
 * ```ts
 * const outcome = await ensureRootMarker(root, () => state.countSyncedFrom(root));
 * if (outcome !== "present") log("info", `created ${root}/.tcfs-root`);
 * ```
 */
export async function ensureRootMarker(
  root: string,
  countSynced: () => number,
  options: RootPreparation = {},
): Promise<RootMarkerOutcome> {
  if (await hasRootMarker(root)) return "present";
  const synced = countSynced();
  if (synced > 0 && await isEmptyFolder(root)) {
    throw new TcfsError(
      `${root} has no ${ROOT_MARKER} marker and is empty, but ${synced} files were synced ` +
        `from it: is the drive mounted?`,
      {
        kind: "root_marker_missing",
        hint: `mount it (syncing resumes by itself); nothing is deleted remotely meanwhile. ` +
          `If the folder is meant to be empty, create the marker: touch ${join(root, ROOT_MARKER)}`,
      },
    );
  }
  if (options.write ?? true) {
    await Deno.writeFile(join(root, ROOT_MARKER), new Uint8Array(), { createNew: true })
      .catch((err) => {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      });
  }
  return synced === 0 ? "created" : "adopted";
}

/**
 * Gets the sync root ready to sync: a missing root is created when nothing was ever synced
 * from it (and refused otherwise: a missing root is an unmounted drive, never "every file was
 * deleted"), then its marker is made sure of ({@linkcode ensureRootMarker}).
 *
 * @throws {TcfsError} kind `sync_root_missing` or `root_marker_missing`.
 *
 * @example
 * ```ts
 * await prepareSyncRoot("/home/me/Sync", () => state.countSyncedFrom("/home/me/Sync"));
 * ```
 */
export async function prepareSyncRoot(
  root: string,
  countSynced: () => number,
  options: RootPreparation = {},
): Promise<RootMarkerOutcome> {
  const info = await Deno.stat(root).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  });
  if (!info) {
    if (countSynced() > 0) {
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
  return await ensureRootMarker(root, countSynced, options);
}

/**
 * Whether `localPath` is the sync root or inside it, where a push needs the root prepared.
 *
 * @example
 * ```ts
 * isInSyncRoot("/home/me/Sync/docs", "/home/me/Sync"); // true
 * ```
 */
export function isInSyncRoot(localPath: string, syncRoot: string): boolean {
  return localPath === syncRoot || localPath.startsWith(syncRoot + "/");
}

async function isEmptyFolder(path: string): Promise<boolean> {
  for await (const _ of Deno.readDir(path)) return false;
  return true;
}
