/**
 * The tracked paths a folder push no longer finds: deleted locally (a deletion to push), or
 * filtered out by an exclude pattern added since they were synced (forgotten on this device,
 * never deleted remotely: the other devices still want them).
 *
 * @module
 */

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
 * Sorts the live tracked paths synced from below `request.localPath` (and under
 * `request.remoteRel`) that are not in `present`.
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
  const { localPath } = request;
  const inside = (path: string) => path === localPath || path.startsWith(localPath + "/");
  const synced = ctx.state.listTracked(trackedNamespace(ctx), request.remoteRel)
    .filter((t) => t.kind !== "deleted" && inside(t.localPath));
  const matches = createPathExcluder(request.excludes);
  const isExcluded = (t: TrackedEntry) =>
    t.localPath !== localPath && matches(t.localPath.slice(localPath.length + 1));
  const gone = synced.filter((t) => !present.has(t.path));
  return {
    synced: synced.length,
    deleted: gone.filter((t) => !isExcluded(t)),
    excluded: gone.filter(isExcluded),
  };
}
