/**
 * What a push or pull changed, read from the state db before and after it: each path whose
 * recorded version moved, as a sync, a deletion, or (paired through the renames the watcher
 * saw) a rename.
 *
 * @module
 */

import type { TrackedEntry } from "../../core/state/state_db.ts";
import type { VectorClock } from "../../core/vclock/vector_clock.ts";

/** The version a path was recorded at. */
export interface TrackedMark {
  key: string;
  kind: string;
}

/** A path whose recorded version changed. */
export interface SyncedChange {
  type: "file_synced" | "file_deleted" | "file_renamed";
  /** Relative to the namespace; for a rename, the new path. */
  path: string;
  /** For a rename: where the file was. */
  old_path?: string;
  /** The version the path now matches (for a rename, the new path's). */
  version_key: string;
  vclock: VectorClock;
}

/**
 * Remembers the recorded version of each entry, to compare after a transfer.
 *
 * @example
 * ```ts
 * const before = trackedMarks(state.listTracked("default", "docs"));
 * ```
 */
export function trackedMarks(entries: readonly TrackedEntry[]): Map<string, TrackedMark> {
  return new Map(entries.map((e) => [e.path, { key: e.baseKey, kind: e.kind }]));
}

/**
 * The changes between `before` and `after`, sorted by path. A deletion of `old` and a sync of
 * `new` become one rename when `renames` holds `[old, new]`, or a move of a folder containing
 * them (`[oldDir, newDir]`).
 *
 * @example
 * ```ts
 * syncedChanges(before, state.listTracked("default", ""), [["a.txt", "b.txt"]]);
 * // [{ type: "file_renamed", path: "b.txt", old_path: "a.txt", version_key: "…", vclock: {…} }]
 * ```
 */
export function syncedChanges(
  before: ReadonlyMap<string, TrackedMark>,
  after: readonly TrackedEntry[],
  renames: readonly [string, string][] = [],
): SyncedChange[] {
  const moved = after.filter((entry) => before.get(entry.path)?.key !== entry.baseKey);
  const deleted = new Map(
    moved.filter((e) => e.kind === "deleted" && before.get(e.path)?.kind !== "deleted")
      .map((e) => [e.path, e]),
  );
  const changes: SyncedChange[] = [];
  for (const entry of moved) {
    if (entry.kind === "deleted") continue;
    const oldPath = renamedFrom(entry.path, renames, deleted);
    if (oldPath !== undefined) deleted.delete(oldPath);
    changes.push({
      type: oldPath === undefined ? "file_synced" : "file_renamed",
      path: entry.path,
      ...(oldPath === undefined ? {} : { old_path: oldPath }),
      version_key: entry.baseKey,
      vclock: entry.baseVclock,
    });
  }
  for (const entry of deleted.values()) {
    changes.push({
      type: "file_deleted",
      path: entry.path,
      version_key: entry.baseKey,
      vclock: entry.baseVclock,
    });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The deleted path that `path` was moved from, if a rename explains it. */
function renamedFrom(
  path: string,
  renames: readonly [string, string][],
  deleted: ReadonlyMap<string, TrackedEntry>,
): string | undefined {
  for (let i = renames.length - 1; i >= 0; i--) {
    const [from, to] = renames[i];
    const oldPath = path === to
      ? from
      : path.startsWith(to + "/")
      ? from + path.slice(to.length)
      : undefined;
    if (oldPath !== undefined && deleted.has(oldPath)) return oldPath;
  }
  return undefined;
}
