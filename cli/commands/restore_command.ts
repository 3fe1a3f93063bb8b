/**
 * `tcfs restore <path> [--version ID | --at TIME] [--to LOCAL]`.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { openCliRuntime } from "../cli_runtime.ts";
import { parsePointInTime } from "../../core/history/point_in_time.ts";
import { restoreInPlace } from "../../core/history/restore_in_place.ts";
import type { RestoredItem, RestoreReport } from "../../core/history/history_report.ts";
import { placeInSyncRoot } from "../../core/sync/root_mapping.ts";
import { formatBytes, JSON_FLAG_HELP, printJson } from "../output.ts";
import { printTransferReport } from "../transfer_report.ts";
import { offerConflictChoices } from "../conflict_prompt.ts";
import { daemonOrWriterLock, remoteSpecText } from "../daemon_connection.ts";
import { pathArgument } from "../path_argument.ts";

/** Builds the command. */
export function restoreCommand() {
  return new Command("restore")
    .description("bring back a deleted file, an older version, or a folder as it was at a time")
    .argument(
      "<path>",
      "remote file or folder <bucket>/<namespace>/<path>, or a local one (even a deleted one)",
    )
    .addOption(
      new Option("--version <id>", "the version to bring back, as `tcfs log` lists it")
        .conflicts("at"),
    )
    .option(
      "--at <time>",
      "go back to this moment: ISO 8601 (2026-12-03T08:00:00Z) or an age (30m, 2h, 3d, 1w)",
    )
    .option(
      "--to <local>",
      "only write the old content here (a file, or a folder for a folder); nothing changes remotely",
    )
    .option("--dry-run", "say what would come back, and change nothing")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Without --version or --at, a deleted file comes back as it was before its deletion,
and for a folder every deleted file under it (\`tcfs ls --deleted\` lists them). Without --to, the old content becomes a new version
on top: it reaches every device like any edit, and can itself be undone. The restored
path is then pulled to its place under sync_root (or to the local path given), so
the file is back on disk when the command returns; a local copy with unpushed edits
is kept and reported as a conflict (exit code 3). A folder comes back file by file as
it was at --at; files created since are left alone.

Examples:
  tcfs restore ~/Sync/notes.txt                       # undo a deletion
  tcfs restore tcfs/default/notes.txt --version 3f2a9c1d-7
  tcfs restore tcfs/default/docs --at 2h              # the folder as it was 2 hours ago
  tcfs restore tcfs/default/docs --at 2026-12-03T08:00:00Z --to /tmp/docs-then
  tcfs restore tcfs/default/docs --at 1d --dry-run`,
    )
    .action(async (path, options) => {
      const at = options.at === undefined ? undefined : parsePointInTime(options.at, "--at");
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const spec = pathArgument(path, config);
        const to = options.to === undefined ? undefined : resolve(options.to);
        using site = await daemonOrWriterLock(runtime, "tcfs restore", { dryRun: options.dryRun });
        let report: RestoreReport;
        if (site.daemon) {
          report = await site.daemon.restore({
            remote: remoteSpecText(config.storage.bucket, spec),
            version: options.version,
            at: at?.toISOString(),
            to,
            local: spec.local,
            dry_run: options.dryRun,
          });
        } else {
          const ctx = await runtime.syncContext(spec.namespace);
          report = await restoreInPlace(
            ctx,
            { rel: spec.rel, version: options.version, at, to, dryRun: options.dryRun },
            {
              local: spec.local ?? placeInSyncRoot(spec.rel, spec.namespace, config.sync),
              syncRoot: config.sync.syncRoot,
            },
          );
          if (report.pulled && !options.json) {
            report.pulled.conflicts = await offerConflictChoices(ctx, report.pulled.conflicts);
          }
        }
        if (options.json) printJson(report);
        else printRestored(report);
        if (report.pulled) printTransferReport("pull", report.pulled, options.json ?? false);
      } finally {
        runtime.close();
      }
    });
}

/** One line per path: what came back, from which version, and where. */
function printRestored(report: RestoreReport): void {
  for (const item of report.restored) console.log(restoredLine(item, report.dry_run));
  const onTop = report.restored.some((item) => item.new_version !== undefined);
  if (report.dry_run) console.log("dry run: nothing was written");
  else if (onTop && report.pulled_to === undefined) {
    console.log(
      "note: the path has no place under sync_root here, so nothing was pulled; " +
        "`tcfs pull` brings it wherever you want it",
    );
  }
}

function restoredLine(item: RestoredItem, dryRun: boolean): string {
  const { from } = item;
  const source = `version ${from.id} (${from.written_at.slice(0, 19).replace("T", " ")} UTC, ` +
    `${from.author_name}, ${from.kind === "file" ? formatBytes(from.size) : "link"})`;
  if (item.action === "unchanged") {
    return `${item.remote} already holds ${source}: nothing to restore`;
  }
  if (dryRun) return `would restore ${item.remote} from ${source}`;
  if (item.local !== undefined) return `wrote ${item.remote} from ${source} to ${item.local}`;
  return `restored ${item.remote} from ${source} as new version ${item.new_version}`;
}
