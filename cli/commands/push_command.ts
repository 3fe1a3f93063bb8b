/**
 * `tcfs push <path> [remote]`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { openCliRuntime } from "../cli_runtime.ts";
import { push } from "../../core/sync/push.ts";
import { parseRemoteSpec } from "../../core/remote/remote_spec.ts";
import { defaultRemoteRel } from "../../core/sync/root_mapping.ts";
import { createProgressBar } from "../progress_bar.ts";
import { JSON_FLAG_HELP, printJson } from "../output.ts";
import { printTransferReport } from "../transfer_report.ts";
import { offerConflictChoices } from "../conflict_prompt.ts";
import { assertNotRevoked } from "../../core/device/device_registry.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";
import { daemonOrWriterLock, remoteSpecText, withDaemonProgress } from "../daemon_connection.ts";
import { pushSettings } from "../../core/sync/push_settings.ts";

/** Builds the command. */
export function pushCommand() {
  return new Command("push")
    .description(
      "upload a file or folder; local edits win only where this device has seen the remote",
    )
    .argument("<path>", "local file or folder")
    .argument(
      "[remote]",
      "remote path <bucket>/<namespace>/<path>; default: its place under sync_root, else tcfs/default/<name>",
    )
    .option("--dry-run", "list what would happen to each path; write nothing")
    .option(
      "--allow-mass-delete",
      "push the deletions even when they are most of the folder (see [sync] mass_delete_ratio)",
    )
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs push ~/Sync/docs                 # mirrors into tcfs/default/docs when ~/Sync is sync_root
  tcfs push report.pdf tcfs/default/reports/report.pdf
  tcfs push --json ~/lab | jq .chunks_uploaded
  tcfs push --dry-run ~/Sync                # upload / delete / conflict / unchanged, per path

Files deleted since the last push become deletions on the remote. A path whose remote
version this device has not seen is left alone on both sides and reported as a conflict
(exit code 3). A push that would delete more than half of the files synced from the folder
(and at least 100; [sync] mass_delete_ratio and mass_delete_min_files) stops before writing
anything (exit code 1) unless --allow-mass-delete is given. Inside sync_root, the root gets its
marker file .tcfs-root when it is new, or when it lacks one but synced files are still there; a
root where none of the files synced from it is found and no marker is refused, since an
unmounted drive looks like a folder whose files were all deleted.`,
    )
    .action(async (path, remote, options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const localPath = resolve(path);
        const spec = remote ? parseRemoteSpec(remote, config.storage.bucket) : {
          namespace: config.sync.namespace,
          rel: defaultRemoteRel(localPath, config.sync.syncRoot),
        };
        using site = await daemonOrWriterLock(runtime, "tcfs push", { dryRun: options.dryRun });
        const { daemon } = site;
        let summary: PushSummary;
        if (daemon) {
          const remote = remoteSpecText(config.storage.bucket, spec);
          summary = await withDaemonProgress(
            daemon,
            createProgressBar("push", !options.json),
            (transfer) =>
              daemon.push({
                path: localPath,
                remote,
                transfer,
                dry_run: options.dryRun,
                allow_mass_delete: options.allowMassDelete,
              }),
          );
        } else {
          const ctx = await runtime.syncContext(spec.namespace);
          assertNotRevoked(ctx.device, ctx.revoked);
          const bar = createProgressBar("push", !options.json);
          summary = await push(ctx, {
            localPath,
            remoteRel: spec.rel,
            excludes: config.sync.excludePatterns,
            onProgress: bar.update,
            followLink: true,
            ...pushSettings(config.sync, options),
          });
          bar.done();
          if (!options.json && !options.dryRun) {
            summary.conflicts = await offerConflictChoices(ctx, summary.conflicts);
          }
        }
        if (options.json) printJson(summary);
        printTransferReport("push", summary, options.json ?? false);
      } finally {
        runtime.close();
      }
    });
}
