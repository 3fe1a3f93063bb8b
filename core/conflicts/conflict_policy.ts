/**
 * What happens when push, pull or the daemon meets a conflict, by
 * `sync.conflict_mode`: `auto` resolves it at once (smallest device name
 * wins, the rest become conflict copies); `interactive` and `defer` queue
 * it and touch nothing (the CLI may then ask on a terminal).
 *
 * Inside a git directory, whatever the mode: objects and refs resolve as git's data allows
 * (git_conflict.ts), a ref at a pull only, once the pull has brought the other side's objects;
 * other shared files there (`config`, hooks) are queued, never copied.
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import { autoResolveConflict, type ResolutionOutcome } from "./conflict_resolver.ts";
import { queueConflict } from "./conflict_queue.ts";
import { gitDirPath } from "../git/git_dir_path.ts";
import { resolveGitConflict } from "../git/git_conflict.ts";

/** A conflict as push or pull met it. */
export interface MetConflict {
  rel: string;
  localPath: string;
  remoteAuthors: string[];
}

/** What the policy did with the conflicts it was given. */
export interface PolicyOutcome {
  resolved: ResolutionOutcome[];
  queued: MetConflict[];
}

/**
 * Applies the context's conflict mode to `met`.
 *
 * @example
 * ```ts
 * const { queued } = await applyConflictPolicy(ctx, met, "push");
 * ```
 */
export async function applyConflictPolicy(
  ctx: SyncContext,
  met: MetConflict[],
  detectedBy: "push" | "pull" | "daemon",
): Promise<PolicyOutcome> {
  const outcome: PolicyOutcome = { resolved: [], queued: [] };
  for (const conflict of met) {
    const git = gitDirPath(conflict.rel);
    // A push has not brought the other side's commits: its pull resolves the ref.
    if (git?.kind === "ref" && detectedBy === "push") continue;
    if (git?.kind === "ref" || git?.kind === "object") {
      try {
        outcome.resolved.push(await resolveGitConflict(ctx, conflict, git));
        continue;
      } catch (err) {
        ctx.log?.("warning", `resolving ${conflict.rel} failed, queued: ${(err as Error).message}`);
      }
    } else if (!git && ctx.conflictMode === "auto") {
      try {
        outcome.resolved.push(
          await autoResolveConflict(ctx, { rel: conflict.rel, localPath: conflict.localPath }),
        );
        continue;
      } catch (err) {
        ctx.log?.(
          "warning",
          `auto-resolving ${conflict.rel} failed, queued instead: ${(err as Error).message}`,
        );
      }
    }
    queueConflict(ctx.state, {
      namespace: ctx.namespace,
      path: conflict.rel,
      local_path: conflict.localPath,
      detected_by: detectedBy,
      detected_at: new Date().toISOString(),
      remote_authors: conflict.remoteAuthors,
    });
    outcome.queued.push(conflict);
  }
  return outcome;
}
