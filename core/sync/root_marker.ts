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
 * Refuses to push `localPath` when it is the sync root, or inside it, and the root has no
 * marker: what is missing there may be a drive that is not mounted, not deleted files.
 *
 * @throws {TcfsError} kind `root_marker_missing`.
 *
 * @example
 * ```ts
 * await assertRootMarker("/home/me/Sync/docs", "/home/me/Sync");
 * ```
 */
export async function assertRootMarker(localPath: string, syncRoot?: string): Promise<void> {
  if (syncRoot === undefined) return;
  if (localPath !== syncRoot && !localPath.startsWith(syncRoot + "/")) return;
  if (await hasRootMarker(syncRoot)) return;
  throw new TcfsError(
    `the sync root ${syncRoot} has no ${ROOT_MARKER} marker; nothing was pushed`,
    {
      kind: "root_marker_missing",
      hint: `if the folder is on a drive, check that it is mounted; if it is the right folder, ` +
        `start the daemon (it adds the marker) or create it: touch ${join(syncRoot, ROOT_MARKER)}`,
    },
  );
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
  await Deno.writeFile(join(root, ROOT_MARKER), new Uint8Array(), { createNew: true })
    .catch((err) => {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    });
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
    await Deno.mkdir(root, { recursive: true });
  } else if (!info.isDirectory) {
    throw new TcfsError(`the sync root ${root} is not a folder`, {
      kind: "sync_root_missing",
      hint: "set [sync] sync_root to a folder",
    });
  }
  return await ensureRootMarker(root, countSynced);
}

async function isEmptyFolder(path: string): Promise<boolean> {
  for await (const _ of Deno.readDir(path)) return false;
  return true;
}
