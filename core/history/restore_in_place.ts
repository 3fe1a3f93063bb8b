/**
 * A restore as `tcfs restore` and the daemon's `/v1/restore` run it: the old content comes back
 * as new versions on top (or only to a local target), and then the local copy of the path is
 * brought in line by a pull, so a restored file is back on disk when the command returns.
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import { pull, type PullRequest } from "../sync/pull.ts";
import type { PullSummary } from "../sync/transfer_summary.ts";
import { restoreHistory, type RestoreRequest } from "./history_restore.ts";
import { restoredItems, type RestoreReport } from "./history_report.ts";

/** Where the restored path lives on this device, and how it is pulled there. */
export interface RestorePlace {
  /** The local file or folder of the restored path; none: nothing is pulled. */
  local?: string;
  /** The configured sync root, for the pull's checks (root_marker.ts). */
  syncRoot?: string;
  /** Runs the pull (the daemon's announces what it changes); a plain pull by default. */
  pull?: (request: PullRequest) => Promise<PullSummary>;
}

/**
 * Restores what `request` names; when new versions were written on top and `place.local` is
 * given, pulls the path there.
 *
 * @example
 * ```ts
 * const report = await restoreInPlace(ctx, { rel: "notes.txt" }, {
 *   local: "/home/me/Sync/notes.txt",
 *   syncRoot: "/home/me/Sync",
 * });
 * ```
 */
export async function restoreInPlace(
  ctx: SyncContext,
  request: RestoreRequest,
  place: RestorePlace = {},
): Promise<RestoreReport> {
  const paths = await restoreHistory(ctx, request);
  const report: RestoreReport = {
    dry_run: request.dryRun ?? false,
    restored: restoredItems(ctx, paths),
  };
  const wrote = paths.some((item) => item.new_version !== undefined);
  if (place.local === undefined || !wrote) return report;
  const runPull = place.pull ?? ((pullRequest: PullRequest) => pull(ctx, pullRequest));
  report.pulled = await runPull({
    remoteRel: request.rel,
    localTarget: place.local,
    syncRoot: place.syncRoot,
  });
  report.pulled_to = place.local;
  return report;
}
