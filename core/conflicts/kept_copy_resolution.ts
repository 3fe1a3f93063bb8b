/**
 * Conflicts kept as copies in the store: a write through a mount that met a version written
 * meanwhile is pushed as a conflict copy beside its path (`mount/write_back.ts`), since a mount
 * has no local file to hold it while the user decides. Both sides are then in the store, and
 * resolving is a store-only choice between them: keep both (the queue entry goes), keep the
 * other device's version (the copy is deleted), or keep this device's (the copy's content
 * becomes the path's next version, over exactly the heads read, and the copy is deleted).
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { pathHeads, type SyncContext } from "../sync/sync_context.ts";
import { writeVersion } from "../journal/version_batch.ts";
import { storedContent } from "../journal/stored_content.ts";
import { deletionContent } from "../sync/local_content.ts";
import { parseConflictCopy } from "./conflict_copy_name.ts";
import { clearConflict } from "./conflict_queue.ts";
import type { Resolution, ResolutionOutcome } from "./conflict_resolver.ts";

/** What `detected_by` says of a conflict kept as a copy by a mount. */
export const KEPT_BY_MOUNT = "mount";

/**
 * Settles the conflict whose losing side is the copy at `copyRel`, as `resolution` says.
 * A version of the path or of the copy written meanwhile is never covered: the write refuses
 * it (`coverOnlySeen`), and the conflict stays queued.
 *
 * @example
 * ```ts
 * await resolveKeptCopy(ctx, "docs/plan.conflict-laptop-20261204-190000.txt", "keep_local");
 * ```
 */
export async function resolveKeptCopy(
  ctx: SyncContext,
  copyRel: string,
  resolution: Resolution,
): Promise<ResolutionOutcome> {
  const original = parseConflictCopy(copyRel)?.original;
  if (!original) {
    throw new TcfsError(`${copyRel} is not a conflict copy`, {
      kind: "invalid_argument",
      hint: "give the path as `tcfs conflicts` lists it",
    });
  }
  const copySeen = await pathHeads(ctx, copyRel);
  const copy = copySeen.heads.filter((h) => h.version.kind !== "deleted");
  if (copy.length !== 1) {
    if (copy.length === 0) clearConflict(ctx.state, ctx.namespace, copyRel);
    throw new TcfsError(
      copy.length === 0
        ? `${copyRel} is gone (deleted or moved): there is nothing left to resolve`
        : `${copyRel} has ${copy.length} concurrent versions itself`,
      {
        kind: "no_conflict",
        hint: copy.length === 0
          ? "its queue entry is cleared"
          : "resolve the copy's own conflict first (tcfs resolve-conflict on the copy's path in a sync root)",
      },
    );
  }
  const originalSeen = await pathHeads(ctx, original);
  const standing = originalSeen.heads.find((h) => h.version.kind !== "deleted") ??
    originalSeen.heads[0];
  const outcome: ResolutionOutcome = {
    path: original,
    resolution,
    winner: standing?.version.author_name ?? copy[0].version.author_name,
    copies: resolution === "keep_both" ? [copyRel] : [],
    copies_deleted: [],
    version_key: standing?.key ?? "",
  };
  if (resolution === "keep_local") {
    const written = await writeVersion(
      ctx,
      original,
      await storedContent(copy[0]),
      {},
      originalSeen,
      { coverOnlySeen: true },
    );
    outcome.winner = copy[0].version.author_name;
    outcome.version_key = written.key;
  }
  if (resolution !== "keep_both") {
    await writeVersion(ctx, copyRel, deletionContent(), {}, copySeen, { coverOnlySeen: true });
    outcome.copies_deleted.push(copyRel);
  }
  clearConflict(ctx.state, ctx.namespace, copyRel);
  return outcome;
}
