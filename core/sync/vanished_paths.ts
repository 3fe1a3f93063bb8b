/**
 * The tracked paths a folder push no longer finds: deleted locally (a deletion to push), or
 * filtered out by an exclude pattern added since they were synced, or links while
 * `[sync] links = "skip"` (forgotten on this device, never deleted remotely: the other devices
 * still want them).
 *
 * @module
 */

import { join } from "node:path";
import type { TrackedEntry, TrackedStat } from "../state/state_db.ts";
import { createPathExcluder } from "./exclude_matcher.ts";
import type { LocalEntry } from "./local_scanner.ts";
import { lstatIfPresent } from "../io/lstat_if_present.ts";
import { type SyncContext, trackedNamespace } from "./sync_context.ts";

/** What {@linkcode vanishedSorter} found. */
export interface VanishedPaths {
  /** Live tracked paths synced from below the folder. */
  synced: number;
  /** Gone locally: deletions to push. */
  deleted: TrackedEntry[];
  /** Filtered out by an exclude pattern: to untrack. */
  excluded: TrackedEntry[];
}

/** Sorts tracked rows into {@linkcode VanishedPaths} as a push's pass meets them. */
export interface VanishedSorter {
  /** Takes the tracked row of a path, with what the push's scan found there (if anything). */
  add(tracked: TrackedStat, local: LocalEntry | undefined): void;
  /**
   * Says the scan passed `path` without reading it (`scanFolder`'s `onUnreadable`), before its
   * row is added: it is there, so it is no deletion.
   */
  unreadable(path: string): void;
  /** What the rows added so far make. */
  readonly found: VanishedPaths;
}

/**
 * Sorts the live tracked paths under `request.remoteRel`, synced from the place below
 * `request.localPath` that the push maps them to, that its scan did not find.
 *
 * @example
 * ```ts
 * const vanished = vanishedSorter(ctx, request);
 * for (const t of state.trackedStats(ns, request.remoteRel)) vanished.add(t, scanned.get(t.path));
 * const { deleted, excluded } = vanished.found;
 * ```
 */
export function vanishedSorter(
  ctx: SyncContext,
  request: { localPath: string; remoteRel: string; excludes: readonly string[] },
): VanishedSorter {
  const { localPath, remoteRel } = request;
  const ns = trackedNamespace(ctx);
  // A row synced elsewhere (a pull into another folder) is not this push's to delete: only
  // the place this push maps its path to counts.
  const mappedTo = (path: string) =>
    join(localPath, remoteRel === "" ? path : path.slice(remoteRel.length + 1));
  const matches = createPathExcluder(request.excludes);
  const isExcluded = (t: TrackedStat) =>
    (ctx.links === "skip" && t.kind === "symlink") ||
    (t.localPath !== localPath && matches(t.localPath.slice(localPath.length + 1)));
  const found: VanishedPaths = { synced: 0, deleted: [], excluded: [] };
  const unreadable = new Set<string>();
  return {
    unreadable: (path) => unreadable.add(path),
    add(tracked, local) {
      if (tracked.kind === "deleted") return;
      // The scan found `local` where the push maps the path: no need to work the place out.
      const mapped = local?.localPath ?? mappedTo(tracked.path);
      if (tracked.localPath !== mapped) return;
      found.synced++;
      if (local) return;
      const excluded = isExcluded(tracked);
      // Not seen is not gone when the scan could not read it (a link whose target is not
      // UTF-8) or its place cannot be looked at (a folder on the way this user may not read,
      // which the scan reported): a deletion pushed then would take it from every other device.
      if (!excluded && (unreadable.has(tracked.path) || !canLookAt(mapped))) return;
      // The whole row (its base clock too) only for the few that go.
      const whole = ctx.state.getTracked(ns, tracked.path)!;
      (excluded ? found.excluded : found.deleted).push(whole);
    },
    found,
  };
}

/** Whether lstat can say what is at `path` (nothing, for a path the scan did not find). */
function canLookAt(path: string): boolean {
  try {
    lstatIfPresent(path);
    return true;
  } catch {
    return false;
  }
}
