/**
 * At most `[sync] max_conflicts` conflict copies per path: past that many, the oldest (by the
 * time their losing side was written) are deleted, as deletions that reach every device.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { statEntry } from "../sync/local_scanner.ts";
import { modifiedSince } from "../sync/local_change.ts";
import { deletionContent } from "../sync/local_content.ts";
import { writeVersion } from "../journal/version_batch.ts";
import { namespaceHeads, type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import type { PathHeads } from "../journal/stored_version.ts";
import { adoptDeletion } from "../sync/tracked_record.ts";
import { parseConflictCopy } from "./conflict_copy_name.ts";
import { mappedRoot } from "../paths/link_free_folder.ts";
import { removeDurably } from "../sync/unchanged_removal.ts";
import { dominates } from "../vclock/vector_clock.ts";
import type { ConflictSite } from "./conflict_site.ts";

/** Copies kept per path when the context does not say (Syncthing's default too). */
export const DEFAULT_MAX_CONFLICTS = 10;

/**
 * Deletes the oldest conflict copies of `site` beyond the context's cap and returns their
 * paths. A copy edited on this device since it arrived is kept: that edit is the user's; so is
 * one holding a version this device has not synced (another device's edit of it).
 *
 * @example
 * ```ts
 * const deleted = await capConflictCopies(ctx, site);
 * ```
 */
export async function capConflictCopies(
  ctx: SyncContext,
  site: ConflictSite,
): Promise<string[]> {
  const { byPath } = await namespaceHeads(
    ctx,
    (rel) => parseConflictCopy(rel)?.original === site.rel,
  );
  const live = [...byPath.values()].filter((p) =>
    p.heads.some((h) => h.version.kind !== "deleted")
  );
  const newestFirst = (a: PathHeads, b: PathHeads) => {
    const [sa, sb] = [parseConflictCopy(a.path)!.stamp, parseConflictCopy(b.path)!.stamp];
    return sa !== sb ? (sa < sb ? 1 : -1) : (a.path < b.path ? 1 : -1);
  };
  const deleted: string[] = [];
  for (const copy of live.sort(newestFirst).slice(ctx.maxConflicts ?? DEFAULT_MAX_CONFLICTS)) {
    const tracked = ctx.state.getTracked(trackedNamespace(ctx), copy.path);
    const base = tracked?.baseVclock ?? {};
    if (!copy.heads.every((h) => dominates(base, h.version.vclock))) continue;
    const localPath = join(dirname(site.localPath), basename(copy.path));
    const entry = await statEntry(localPath, copy.path);
    if (entry && await modifiedSince(tracked, entry, ctx.keys)) continue;
    // Gone from disk (durably) before the deletion is written: an edit saved meanwhile keeps it.
    if (entry && !await removeDurably(entry, mappedRoot(site.localPath, site.rel))) continue;
    const written = await writeVersion(
      ctx,
      copy.path,
      deletionContent(),
      base,
      copy,
    );
    adoptDeletion(ctx, copy.path, localPath, written);
    deleted.push(copy.path);
  }
  return deleted;
}
