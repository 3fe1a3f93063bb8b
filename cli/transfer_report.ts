/**
 * The human summary of a push or pull, and the exit code it implies.
 *
 * @module
 */

import { ExitCode } from "../core/errors.ts";
import type {
  PathFailure,
  PlannedPath,
  PullSummary,
  PushSummary,
} from "../core/sync/transfer_summary.ts";
import { formatBytes, setExitCode } from "./output.ts";

/**
 * Prints what a transfer did (unless `json`, where the caller printed the
 * summary) and sets the exit code: 3 for conflicts, 1 for failed paths.
 *
 * @example
 * ```ts
 * printTransferReport("push", summary, false);
 * ```
 */
export function printTransferReport(
  direction: "push" | "pull",
  summary: PushSummary | PullSummary,
  json: boolean,
): void {
  if (!json && summary.planned) printPlan(summary.planned, summary.failures);
  else if (!json) {
    const moved = "chunks_uploaded" in summary
      ? `${formatBytes(summary.bytes_uploaded)} in ${summary.chunks_uploaded} new chunks`
      : `${formatBytes(summary.bytes_downloaded)} in ${summary.chunks_downloaded} chunks`;
    console.log(
      `${direction === "push" ? "pushed" : "pulled"} ${summary.files} files (${moved}), ` +
        `${summary.deleted} deleted, ${summary.unchanged} unchanged`,
    );
    if (summary.store_replaced) {
      console.log(
        "note: the store is not the one this device last synced with (it was emptied or replaced); " +
          "every file was compared afresh",
      );
    }
    if ("untracked" in summary && summary.untracked > 0) {
      console.log(
        `note: ${summary.untracked} synced paths are now excluded: forgotten here, kept remotely`,
      );
    }
    for (const path of summary.auto_resolved) {
      console.log(
        `conflict on ${path} resolved automatically (conflict_mode = auto); the other side was kept as a conflict copy`,
      );
    }
    if ("kept_modified" in summary) {
      for (const path of summary.kept_modified) {
        console.log(
          `note: ${path} was deleted remotely but changed here; your copy was kept (push to restore it remotely)`,
        );
      }
    }
    if ("resurrected" in summary) {
      for (const path of summary.resurrected) {
        console.log(`note: ${path} was deleted remotely; your modification wins and was pushed`);
      }
    }
    for (const path of summary.conflicts) {
      console.error(
        direction === "push"
          ? `conflict: ${path} has a remote version this device has not seen; local file kept, remote untouched`
          : `conflict: ${path} has local changes (or concurrent remote versions); local file kept`,
      );
    }
    for (const failure of summary.failures) {
      console.error(`failed: ${failure.path}: ${failure.error}`);
    }
    if (summary.conflicts.length > 0) {
      console.error(
        "hint: list them with `tcfs conflicts`, then `tcfs resolve-conflict <path> --keep-local|--keep-remote|--keep-both`",
      );
    }
  }
  if (summary.failures.length > 0) setExitCode(ExitCode.error);
  if (summary.conflicts.length > 0) setExitCode(ExitCode.conflicts);
}

/** A dry run's list: one line per path that would change, then the counts. */
function printPlan(planned: readonly PlannedPath[], failures: readonly PathFailure[]): void {
  const width = Math.max(0, ...planned.map((p) => p.action.length));
  const counts = new Map<string, number>();
  for (const { path, action } of planned) {
    counts.set(action, (counts.get(action) ?? 0) + 1);
    if (action !== "unchanged") console.log(`${action.padEnd(width)}  ${path}`);
  }
  const figures = [...counts].map(([action, n]) => `${n} ${action}`).join(", ");
  for (const failure of failures) console.error(`failed: ${failure.path}: ${failure.error}`);
  console.log(`dry run: nothing was written (${figures || "nothing to do"})`);
}
