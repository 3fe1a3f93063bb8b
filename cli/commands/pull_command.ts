/**
 * `tcfs pull <remote> [local]`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { openCliRuntime } from "../cli_runtime.ts";
import { pull } from "../../core/sync/pull.ts";
import { parseRemoteSpec } from "../../core/remote/remote_spec.ts";
import { defaultLocalTarget } from "../../core/sync/root_mapping.ts";
import { createProgressBar } from "../progress_bar.ts";
import { JSON_FLAG_HELP, printJson } from "../output.ts";
import { printTransferReport } from "../transfer_report.ts";
import { offerConflictChoices } from "../conflict_prompt.ts";
import type { PullSummary } from "../../core/sync/transfer_summary.ts";
import { daemonOrWriterLock, remoteSpecText, withDaemonProgress } from "../daemon_connection.ts";

/** Builds the command. */
export function pullCommand() {
  return new Command("pull")
    .description("download a remote file or prefix; local edits are never overwritten")
    .argument(
      "<remote>",
      "remote file or prefix <bucket>/<namespace>/<path>; <bucket>/<namespace>/ for everything",
    )
    .argument("[local]", "local file or folder; default: its place under sync_root, else ./<name>")
    .option("--dry-run", "list what would happen to each path, and change nothing")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs pull tcfs/default/report.pdf             # into sync_root, or ./report.pdf
  tcfs pull tcfs/default/report.pdf ~/Downloads # into ~/Downloads/report.pdf, as cp does
  tcfs pull tcfs/default/docs ~/docs            # a whole prefix into ~/docs
  tcfs pull tcfs/default/ ~/Sync                # the whole namespace
  tcfs pull tcfs/default/ ~/Sync --dry-run      # what that would restore, delete or keep

Every chunk and every file is checked against its BLAKE3 before it replaces anything,
and files are replaced atomically. A local file with unpushed edits is kept and
reported as a conflict (exit code 3). A folder that another device replaced by a file
goes only if every file in it is a synced one that was deleted remotely too. Inside
sync_root, the root's .tcfs-root marker is checked as by push, and nothing is written
through a link below the root.`,
    )
    .action(async (remote, local, options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const spec = parseRemoteSpec(remote, config.storage.bucket);
        const localTarget = local
          ? resolve(local)
          : defaultLocalTarget(spec.rel, config.sync.syncRoot, Deno.cwd());
        using site = await daemonOrWriterLock(runtime, "tcfs pull", { dryRun: options.dryRun });
        const { daemon } = site;
        let summary: PullSummary;
        if (daemon) {
          const remote = remoteSpecText(config.storage.bucket, spec);
          summary = await withDaemonProgress(
            daemon,
            createProgressBar("pull", !options.json && !options.dryRun),
            (transfer) =>
              daemon.pull({ remote, local: localTarget, transfer, dry_run: options.dryRun }),
          );
        } else {
          const ctx = await runtime.syncContext(spec.namespace);
          const bar = createProgressBar("pull", !options.json && !options.dryRun);
          summary = await pull(ctx, {
            remoteRel: spec.rel,
            localTarget,
            syncRoot: config.sync.syncRoot,
            dryRun: options.dryRun,
            onProgress: bar.update,
          });
          bar.done();
          if (!options.json) summary.conflicts = await offerConflictChoices(ctx, summary.conflicts);
        }
        if (options.json) printJson(summary);
        printTransferReport("pull", summary, options.json ?? false);
      } finally {
        runtime.close();
      }
    });
}
