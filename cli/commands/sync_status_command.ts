/**
 * `tcfs sync-status [path]`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { openCliRuntime } from "../cli_runtime.ts";
import { syncStatus } from "../../core/sync/sync_status.ts";
import { defaultRemoteRel } from "../../core/sync/root_mapping.ts";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import type { ControlClient } from "../../daemon/api/control_client.ts";
import { servingDaemon } from "../daemon_connection.ts";
import { formatTable, JSON_FLAG_HELP, printJson, setExitCode } from "../output.ts";

/** Builds the command. */
export function syncStatusCommand() {
  return new Command("sync-status")
    .description("show how each local path relates to the remote")
    .argument("[path]", "local file or folder; default: sync_root")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
States: synced, modified (local edits to push), new (never pushed), deleted (deleted
locally, not yet pushed), remote-newer (pull to update), conflict (resolve it).
Exit code 3 when any path is in conflict.

Examples:
  tcfs sync-status
  tcfs sync-status ~/Sync/docs --json`,
    )
    .action(async (path, options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const target = path ?? config.sync.syncRoot;
        if (!target) {
          throw new TcfsError("no path given and no sync_root configured", {
            exitCode: ExitCode.usage,
            hint: "run `tcfs sync-status <path>`, or set [sync] sync_root",
          });
        }
        const localPath = resolve(target);
        using daemon = await servingDaemon(runtime);
        const rows = daemon ? await daemon.syncStatus({ path: localPath }) : await syncStatus(
          await runtime.syncContext(),
          {
            localPath,
            remoteRel: defaultRemoteRel(localPath, config.sync.syncRoot),
            excludes: config.sync.excludePatterns,
          },
        );
        if (!options.json) console.log(await daemonLine(daemon));
        if (options.json) printJson(rows);
        else if (rows.length === 0) console.log("nothing to sync");
        else {console.log(
            formatTable([["STATE", "PATH"], ...rows.map((r) => [r.state, r.local ?? r.remote])]),
          );}
        if (rows.some((r) => r.state === "conflict")) setExitCode(ExitCode.conflicts);
      } finally {
        runtime.close();
      }
    });
}

/** One line saying whether the daemon answered, and how its NATS connection is. */
async function daemonLine(daemon: ControlClient | undefined): Promise<string> {
  if (!daemon) return "daemon: not running (the store was checked directly)";
  const { nats } = await daemon.status();
  const server = nats.server ? ` to ${nats.server}` : "";
  return `daemon: running; NATS ${nats.state}${server}, ${nats.outbox_depth} events in the outbox`;
}
