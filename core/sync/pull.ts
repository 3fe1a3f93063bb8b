/**
 * Pull: a remote version replaces the local copy only when the local copy
 * is exactly what this device last synced; local edits are never
 * overwritten (that is a conflict), and nothing lands outside the target.
 * Stages: read heads → plan per path → restore or delete → record state.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { createLimiter } from "../concurrency/limiter.ts";
import { dominates } from "../vclock/vector_clock.ts";
import { confinedPath } from "../paths/confined_path.ts";
import { isUnderRel } from "../paths/remote_path.ts";
import { statEntry } from "./local_scanner.ts";
import { removeIfUnchanged, sameEntryStat } from "./unchanged_removal.ts";
import { saveChunkPrints } from "../state/chunk_prints.ts";
import { rememberChunkLocations } from "../state/chunk_locations.ts";
import { type DownloadCounters, type RestoreOptions, restoreVersion } from "./file_restorer.ts";
import { createChunkHasher } from "../hashing/chunk_hasher.ts";
import { completeVersion, type PathHeads } from "./remote_heads.ts";
import {
  namespaceHeads,
  pathHeads,
  remoteDisplayPath,
  storeWasReplaced,
  type SyncContext,
  trackedNamespace,
  type TransferProgress,
} from "./sync_context.ts";
import { emptyPullSummary, type PullSummary } from "./transfer_summary.ts";
import { adopt, adoptDeletion } from "./tracked_record.ts";
import { applyConflictPolicy, type MetConflict } from "../conflicts/conflict_policy.ts";
import { clearConflict } from "../conflicts/conflict_queue.ts";
import { isLocalFailure, modifiedSince, sameContent } from "./local_change.ts";

/** What to pull and where to. */
export interface PullRequest {
  /** A remote file or prefix, relative to the namespace ("" = everything). */
  remoteRel: string;
  /** The local file (for a remote file) or folder (for a prefix). */
  localTarget: string;
  onProgress?: (progress: TransferProgress) => void;
}

/** One path to bring in line with the remote. */
interface PullItem {
  rel: string;
  heads: PathHeads;
  /** Local path, or the path below `localTarget` still to be confined. */
  local: { path: string } | { inside: string };
}

/**
 * Pulls one file or a whole prefix.
 *
 * @example
 * ```ts
 * const summary = await pull(ctx, { remoteRel: "docs", localTarget: "/home/me/docs" });
 * ```
 */
export async function pull(ctx: SyncContext, request: PullRequest): Promise<PullSummary> {
  const summary = emptyPullSummary();
  summary.store_replaced = await storeWasReplaced(ctx);
  const items = await planItems(ctx, request, summary);
  const counters: DownloadCounters = { chunksDownloaded: 0, bytesDownloaded: 0 };
  using hasher = createChunkHasher();
  const progress: TransferProgress = {
    filesDone: 0,
    filesTotal: items.length,
    bytesDone: 0,
    bytesTotal: 0,
  };
  for (const item of items) {
    const head = item.heads.heads[0]?.version;
    if (item.heads.heads.length === 1 && head.kind === "file") progress.bytesTotal += head.size;
  }
  summary.bytes_total = progress.bytesTotal;
  const report = () => request.onProgress?.(progress);
  const met: MetConflict[] = [];
  const limiter = createLimiter(ctx.fileConcurrency ?? 32);
  let fatal: unknown;
  await Promise.all(items.map((item) =>
    limiter.run(async () => {
      if (fatal) return;
      try {
        const outcome = await pullOne(ctx, request, item, {
          counters,
          hasher,
          onBytes: (n) => {
            progress.bytesDone += n;
            report();
          },
        });
        if (typeof outcome === "object") met.push(outcome);
        else if (outcome === "kept_modified") {
          summary.kept_modified.push(remoteDisplayPath(ctx, item.rel));
        } else if (outcome === "unchanged") summary.unchanged++;
        else if (outcome === "deleted") summary.deleted++;
        else {
          summary.files++;
          summary.chunks_total += item.heads.heads[0].version.chunks.length;
        }
      } catch (err) {
        if (isLocalFailure(err)) {
          summary.failures.push({ path: item.rel, error: (err as Error).message });
        } else fatal ??= err;
      }
      progress.filesDone++;
      report();
    })
  ));
  summary.chunks_downloaded = counters.chunksDownloaded;
  summary.bytes_downloaded = counters.bytesDownloaded;
  if (fatal) throw fatal;
  const { resolved, queued } = await applyConflictPolicy(ctx, met, "pull");
  summary.auto_resolved = resolved.map((r) => remoteDisplayPath(ctx, r.path));
  summary.conflicts = queued.map((c) => remoteDisplayPath(ctx, c.rel)).sort();
  return summary;
}

async function planItems(
  ctx: SyncContext,
  request: PullRequest,
  summary: PullSummary,
): Promise<PullItem[]> {
  if (request.remoteRel !== "") {
    const single = await pathHeads(ctx, request.remoteRel);
    if (single.heads.length > 0) {
      return [{ rel: request.remoteRel, heads: single, local: { path: request.localTarget } }];
    }
  }
  const prefix = request.remoteRel;
  const { byPath, unreadable } = await namespaceHeads(
    ctx,
    (rel) => rel !== prefix && isUnderRel(rel, prefix),
  );
  for (const err of unreadable) {
    summary.failures.push({ path: "(unreadable version)", error: err.message });
  }
  if (byPath.size === 0 && unreadable.length === 0) {
    throw new TcfsError(`nothing at ${remoteDisplayPath(ctx, prefix)}`, {
      kind: "not_found",
      hint: "check the path with `tcfs ls`",
    });
  }
  return [...byPath.values()].map((heads) => ({
    rel: heads.path,
    heads,
    local: { inside: prefix === "" ? heads.path : heads.path.slice(prefix.length + 1) },
  }));
}

/** What happened to one path; a conflict comes back for the conflict policy. */
type Outcome = "restored" | "deleted" | "unchanged" | "kept_modified" | MetConflict;

async function pullOne(
  ctx: SyncContext,
  request: PullRequest,
  item: PullItem,
  restoreOptions: Omit<RestoreOptions, "beforeReplace">,
): Promise<Outcome> {
  const { heads } = item.heads;
  const head = heads[0];
  const localPath = "path" in item.local
    ? item.local.path
    : await confinedPath(request.localTarget, item.local.inside, head.key);
  // What this device synced counts only at the place it synced it to.
  const recorded = ctx.state.getTracked(trackedNamespace(ctx), item.rel);
  const tracked = recorded?.localPath === localPath ? recorded : undefined;
  const unseen = heads.filter((h) => !tracked || !dominates(tracked.baseVclock, h.version.vclock));
  if (unseen.length === 0) return "unchanged";
  const conflict = {
    rel: item.rel,
    localPath,
    remoteAuthors: unseen.map((h) => h.version.author_name),
  };
  if (heads.length !== 1) return conflict;
  const local = await statEntry(localPath, item.rel);
  if (local && await modifiedSince(ctx.state.getTracked(trackedNamespace(ctx), local.rel), local)) {
    if (await sameContent(local, head.version)) {
      adopt(ctx, local, head);
      clearConflict(ctx.state, ctx.namespace, item.rel);
      return "unchanged";
    }
    // Deleted there, modified here: the modification wins and is pushed next time.
    return head.version.kind === "deleted" ? "kept_modified" : conflict;
  }
  if (head.version.kind === "deleted") {
    // An edit saved since `local` was checked wins, as it would have a moment earlier.
    if (local && !await removeIfUnchanged(local)) return "kept_modified";
    adoptDeletion(ctx, item.rel, localPath, head);
    return "deleted";
  }
  const version = await completeVersion(ctx.store, head);
  const prints = await restoreVersion(ctx.store, version, localPath, {
    ...restoreOptions,
    beforeReplace: async () => {
      const now = await statEntry(localPath, item.rel);
      if (now ? !local || !sameEntryStat(now, local) : local !== undefined) {
        throw new TcfsError(`${localPath} changed during the pull; kept the local edit`, {
          kind: "local_changed",
          hint: "run `tcfs sync-status` and resolve the conflict",
        });
      }
    },
  });
  const restored = await statEntry(localPath, item.rel);
  if (!restored) throw new TcfsError(`${localPath} vanished right after it was written`);
  adopt(ctx, restored, head);
  saveChunkPrints(ctx.state, trackedNamespace(ctx), item.rel, head.key, prints);
  rememberChunkLocations(ctx.state, ctx.store.location, version.chunks);
  clearConflict(ctx.state, ctx.namespace, item.rel);
  return "restored";
}
