/**
 * Pushes a change made through a mount as a new version, with the version the mount showed as
 * its base: `push` then decides, as it does for any push, whether it supersedes the remote or
 * meets a version written meanwhile (a conflict, handled by `[sync] conflict_mode`). The mount
 * has a state database of its own, so the rows written here never touch a sync root's.
 *
 * A conflict push queues (modes `interactive` and `defer`) would leave the edit in the mount's
 * staging folder only, which lasts as long as the mount: the edit is pushed instead as a
 * conflict copy beside its path, and the conflict is queued in the device's queue, where
 * `tcfs conflicts` lists it and `tcfs resolve-conflict` settles it in the store
 * (`kept_copy_resolution.ts`). A deletion that meets a newer version just loses, as in auto mode.
 *
 * @module
 */

import { join } from "node:path";
import { push } from "../sync/push.ts";
import { lastFoldedPath, type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import type { ChangeBase } from "./mount_tree.ts";
import type { PushSummary } from "../sync/transfer_summary.ts";
import type { StateDb } from "../state/state_db.ts";
import { conflictCopyPath, parseConflictCopy } from "../conflicts/conflict_copy_name.ts";
import { clearConflict, queueConflict } from "../conflicts/conflict_queue.ts";
import { KEPT_BY_MOUNT } from "../conflicts/kept_copy_resolution.ts";

/** What to push for one path below the namespace. */
export interface WriteBack {
  /** The path below the namespace. */
  rel: string;
  /** The staged file or link; undefined for a deletion. */
  localPath?: string;
  /** The remote version the change was made on, when there was one. */
  base?: ChangeBase;
}

/** Where a mount's writes go besides the store. */
export interface WriteBackSite {
  /** Holds the placeholder path a deletion is pushed from. */
  stagingDir: string;
  /** The device's own state database: its conflict queue is the one `tcfs conflicts` reads. */
  deviceState: StateDb;
  /** Where a path below the namespace shows in the mount. */
  mountPath(rel: string): string;
}

/** What a write-back did: the push's summary, and the copy a conflicting edit was kept as. */
export interface WriteBackOutcome {
  summary: PushSummary;
  /** The conflict copy (below the namespace) holding the edit, when it met a newer version. */
  keptAs?: string;
  /** The version now at the path, when the change was pushed there. */
  written?: ChangeBase;
  /** Conflict copies (below the namespace) that auto mode's resolution made of the path. */
  copies?: string[];
}

/**
 * Pushes `change`; a deletion without a base has nothing to push.
 *
 * @example
 * ```ts
 * const outcome = await pushWriteBack(ctx, { rel: "docs/a.txt", localPath: staged, base }, site);
 * if (outcome?.keptAs) console.error(`kept as ${outcome.keptAs}`);
 * ```
 */
export async function pushWriteBack(
  ctx: SyncContext,
  change: WriteBack,
  site: WriteBackSite,
): Promise<WriteBackOutcome | undefined> {
  const ns = trackedNamespace(ctx);
  if (!change.localPath && !change.base) return undefined;
  const localPath = change.localPath ??
    join(site.stagingDir, `deleted-${crypto.randomUUID()}`);
  if (change.base) {
    // This mount's copy of the path is the staged one, made on `base`: a stat that matches
    // nothing makes push read it.
    ctx.state.putTracked({
      namespace: ns,
      path: change.rel,
      localPath,
      kind: change.base.version.kind === "symlink" ? "symlink" : "file",
      size: -1,
      mtimeMs: -1,
      ino: null,
      mode: 0,
      blake3: "",
      racy: false,
      baseVclock: change.base.version.vclock,
      baseKey: change.base.key,
      syncedAt: new Date().toISOString(),
    });
  } else ctx.state.deleteTracked(ns, change.rel);
  const summary = await push(ctx, { localPath, remoteRel: change.rel, excludes: [] });
  if (summary.conflicts.length === 0) {
    // Only a resolution places copies: other pushes need not look (nor flush held rows).
    const copies = summary.auto_resolved.length > 0
      ? await dropPlacedCopies(ctx, change.rel, site.stagingDir)
      : [];
    return { summary, written: pushedVersion(ctx, change.rel), copies };
  }
  clearConflict(ctx.state, ctx.namespace, change.rel);
  if (!change.localPath) return { summary: { ...summary, conflicts: [] } };
  return await keepAsCopy(ctx, change, change.localPath, site);
}

/** Pushes the staged edit at `rel`'s conflict-copy path, and queues the conflict. */
async function keepAsCopy(
  ctx: SyncContext,
  change: WriteBack,
  staged: string,
  site: WriteBackSite,
): Promise<WriteBackOutcome> {
  const keptAs = conflictCopyPath(change.rel, ctx.device.name, new Date());
  ctx.state.deleteTracked(trackedNamespace(ctx), keptAs);
  const summary = await push(ctx, { localPath: staged, remoteRel: keptAs, excludes: [] });
  if (summary.conflicts.length > 0 || summary.failures.length > 0) return { summary };
  // The pushes caught up: the fold holds what the edit met.
  const { heads } = lastFoldedPath(ctx, change.rel);
  queueConflict(site.deviceState, {
    namespace: ctx.namespace,
    path: keptAs,
    local_path: site.mountPath(keptAs),
    detected_by: KEPT_BY_MOUNT,
    detected_at: new Date().toISOString(),
    remote_authors: [...new Set(heads.map((h) => h.version.author_name))],
  });
  return { summary, keptAs };
}

/** The version this mount's push left at `rel` (none after a deletion), as the push folded it. */
function pushedVersion(ctx: SyncContext, rel: string): ChangeBase | undefined {
  const key = ctx.state.getTracked(trackedNamespace(ctx), rel)?.baseKey;
  if (!key) return undefined;
  const head = lastFoldedPath(ctx, rel).heads.find((h) => h.key === key);
  return head && head.version.kind !== "deleted" ? head : undefined;
}

/**
 * Auto mode resolves a conflict as in a sync root, and so places the copies it makes beside the
 * staged file, in the staging folder: the mount shows them from the store, so those files go.
 * Returns the copies' paths.
 */
async function dropPlacedCopies(ctx: SyncContext, rel: string, stagingDir: string) {
  const ns = trackedNamespace(ctx);
  const folder = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
  const placed = [...ctx.state.trackedStats(ns, folder)].filter((row) =>
    parseConflictCopy(row.path)?.original === rel && isUnder(row.localPath, stagingDir)
  );
  for (const row of placed) {
    await Deno.remove(row.localPath).catch(() => {});
    ctx.state.deleteTracked(ns, row.path);
  }
  return placed.map((row) => row.path);
}

function isUnder(path: string, dir: string): boolean {
  return path.startsWith(`${dir}/`);
}
