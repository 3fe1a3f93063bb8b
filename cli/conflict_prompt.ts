/**
 * With conflict_mode = interactive on a terminal, push and pull offer the
 * choices right away instead of leaving every conflict for later.
 *
 * @module
 */

import { TcfsError } from "../core/errors.ts";
import { listConflicts } from "../core/conflicts/conflict_queue.ts";
import { type Resolution, resolveConflict } from "../core/conflicts/conflict_resolver.ts";
import { remoteDisplayPath, type SyncContext } from "../core/sync/sync_context.ts";

const CHOICES: Record<string, Resolution | "skip"> = {
  l: "keep_local",
  local: "keep_local",
  r: "keep_remote",
  remote: "keep_remote",
  b: "keep_both",
  both: "keep_both",
  s: "skip",
  skip: "skip",
  "": "skip",
};

/**
 * Asks about each conflict in `conflicts` (remote display paths) and applies
 * the answers. Does nothing unless stdin is a terminal and the mode is interactive.
 * Returns the paths still unresolved.
 *
 * @example
 * ```ts
 * summary.conflicts = await offerConflictChoices(ctx, summary.conflicts);
 * ```
 */
export async function offerConflictChoices(
  ctx: SyncContext,
  conflicts: string[],
): Promise<string[]> {
  if (conflicts.length === 0 || ctx.conflictMode !== "interactive" || !Deno.stdin.isTerminal()) {
    return conflicts;
  }
  const remaining: string[] = [];
  for (const queued of listConflicts(ctx.state, ctx.namespace)) {
    const display = remoteDisplayPath(ctx, queued.path);
    if (!conflicts.includes(display)) continue;
    let choice: Resolution | "skip" | undefined;
    while (choice === undefined) {
      const answer = prompt(
        `conflict on ${display} (also changed by ${queued.remote_authors.join(", ")}): ` +
          "keep [l]ocal, [r]emote, [b]oth, or [s]kip?",
      );
      choice = CHOICES[(answer ?? "s").trim().toLowerCase()];
    }
    if (choice === "skip") {
      remaining.push(display);
      continue;
    }
    let outcome;
    try {
      outcome = await resolveConflict(
        ctx,
        { rel: queued.path, localPath: queued.local_path },
        choice,
      );
    } catch (err) {
      // Another device wrote meanwhile, or the file was saved again: nothing was overwritten,
      // the conflict waits again.
      const waits = ["conflict_changed", "local_changed"];
      if (!(err instanceof TcfsError && waits.includes(err.kind))) throw err;
      console.log(`not resolved: ${err.message}`);
      remaining.push(display);
      continue;
    }
    console.log(
      `resolved: kept ${outcome.winner}'s version${
        outcome.copies.length ? `, copies: ${outcome.copies.join(", ")}` : ""
      }`,
    );
  }
  return remaining;
}
