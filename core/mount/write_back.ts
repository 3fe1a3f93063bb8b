/**
 * Pushes a change made through a mount as a new version, with the version the mount showed as
 * its base: `push` then decides, as it does for any push, whether it supersedes the remote or
 * meets a version written meanwhile (a conflict, handled by `[sync] conflict_mode`). The mount
 * has a state database of its own, so the rows written here never touch a sync root's.
 *
 * @module
 */

import { join } from "node:path";
import { push } from "../sync/push.ts";
import { type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import type { FileVersion } from "../remote/file_version.ts";
import type { PushSummary } from "../sync/transfer_summary.ts";

/** What to push for one path below the namespace. */
export interface WriteBack {
  /** The path below the namespace. */
  rel: string;
  /** The staged file or link; undefined for a deletion. */
  localPath?: string;
  /** The remote version the change was made on, when there was one. */
  base?: { key: string; version: FileVersion };
}

/**
 * Pushes `change`; a deletion without a base has nothing to push. `stagingDir` holds the
 * placeholder path a deletion is pushed from.
 *
 * @example
 * ```ts
 * const summary = await pushWriteBack(ctx, { rel: "docs/a.txt", localPath: staged, base }, dir);
 * if (summary?.conflicts.length) console.error("conflict");
 * ```
 */
export async function pushWriteBack(
  ctx: SyncContext,
  change: WriteBack,
  stagingDir: string,
): Promise<PushSummary | undefined> {
  const ns = trackedNamespace(ctx);
  if (!change.localPath && !change.base) return undefined;
  const localPath = change.localPath ?? join(stagingDir, `deleted-${crypto.randomUUID()}`);
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
      baseVclock: change.base.version.vclock,
      baseKey: change.base.key,
      syncedAt: new Date().toISOString(),
    });
  } else ctx.state.deleteTracked(ns, change.rel);
  return await push(ctx, { localPath, remoteRel: change.rel, excludes: [] });
}
