/**
 * The tracked paths a folder push no longer finds: deleted locally (a deletion to push), or
 * filtered out by an exclude pattern added since they were synced, or links while
 * `[sync] links = "skip"` (forgotten on this device, never deleted remotely: the other devices
 * still want them).
 *
 * @module
 */

import { join } from "node:path";
import type { TrackedEntry } from "../state/state_db.ts";
import { createPathExcluder } from "./exclude_matcher.ts";
import { type SyncContext, trackedNamespace } from "./sync_context.ts";

/** What {@linkcode vanishedPaths} found. */
export interface VanishedPaths {
  /** Live tracked paths synced from below the folder. */
  synced: number;
  /** Gone locally: deletions to push. */
  deleted: TrackedEntry[];
  /** Filtered out by an exclude pattern: to untrack. */
  excluded: TrackedEntry[];
}

/**
 * Sorts the live tracked paths under `request.remoteRel`, synced from the place below
 * `request.localPath` that the push maps them to, that are not in `present`.
 *
 * @example
 * ```ts
 * const { deleted, excluded } = vanishedPaths(ctx, request, new Set(entries.map((e) => e.rel)));
 * ```
 */
export function vanishedPaths(
  ctx: SyncContext,
  request: { localPath: string; remoteRel: string; excludes: readonly string[] },
  present: ReadonlySet<string>,
): VanishedPaths {
  const { localPath, remoteRel } = request;
  // A row synced elsewhere (a pull into another folder) is not this push's to delete: only
  // the place this push maps its path to counts.
  const mappedTo = (path: string) =>
    join(localPath, remoteRel === "" ? path : path.slice(remoteRel.length + 1));
  const synced = ctx.state.listTracked(trackedNamespace(ctx), remoteRel)
    .filter((t) => t.kind !== "deleted" && t.localPath === mappedTo(t.path));
  const matches = createPathExcluder(request.excludes);
  const isExcluded = (t: TrackedEntry) =>
    (ctx.links === "skip" && t.kind === "symlink") ||
    (t.localPath !== localPath && matches(t.localPath.slice(localPath.length + 1)));
  const gone = synced.filter((t) => !present.has(t.path));
  return {
    synced: synced.length,
    deleted: gone.filter((t) => !isExcluded(t)),
    excluded: gone.filter(isExcluded),
  };
}
