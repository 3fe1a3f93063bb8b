/**
 * `tcfs sync-status [path]`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { openCliRuntime } from "../cli_runtime.ts";
import { type PathStatus, syncStatus } from "../../core/sync/sync_status.ts";
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
    .option("--all", "list synced paths too, not only the ones with something to do")
    .option("--json", JSON_FLAG_HELP + " (every path, synced ones included)")
    .addHelpText(
      "after",
      `
States: synced, modified (local edits to push), new (never pushed), deleted (deleted
locally, not yet pushed), remote-newer (pull to update), conflict (resolve it),
unreadable (tcfs cannot look at it here: a folder you may not read, or a name or link
target that is not UTF-8; \`tcfs push\` says how to fix it, and never takes it for deleted).
Like \`git status\`, only paths with something to do are listed, then how many are synced.
Exit code 3 when any path is in conflict.

Examples:
  tcfs sync-status
  tcfs sync-status ~/Sync/docs --all
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
        if (options.json) printJson(rows);
        else console.log(await daemonLine(daemon) + "\n" + statusText(rows, options.all ?? false));
        if (rows.some((r) => r.state === "conflict")) setExitCode(ExitCode.conflicts);
      } finally {
        runtime.close();
      }
    });
}

/**
 * The rows to act on as a table (every row with `all`), then a line counting the synced ones.
 *
 * @example
 * ```ts
 * statusText([{ path: "a", remote: "tcfs/default/a", local: "/s/a", state: "new" }], false);
 * // "STATE  PATH\nnew    /s/a\n\n1 path to sync"
 * ```
 */
export function statusText(rows: readonly PathStatus[], all: boolean): string {
  const pending = rows.filter((row) => row.state !== "synced");
  const listed = all ? rows : pending;
  const synced = rows.length - pending.length;
  const counts = [
    pending.length > 0
      ? `${pending.length} ${pending.length === 1 ? "path" : "paths"} to sync`
      : "nothing to sync",
    synced > 0 ? `${synced} synced` : "",
  ].filter(Boolean).join(", ");
  if (listed.length === 0) return counts;
  const table = formatTable([
    ["STATE", "PATH"],
    ...listed.map((row) => [row.state, row.local ?? row.remote]),
  ]);
  return `${table}\n\n${counts}`;
}

/** One line saying whether the daemon answered, and how its NATS connection is. */
async function daemonLine(daemon: ControlClient | undefined): Promise<string> {
  if (!daemon) return "daemon: not running (the store was checked directly)";
  const { nats } = await daemon.status();
  const server = nats.server ? ` to ${nats.server}` : "";
  return `daemon: running; NATS ${nats.state}${server}, ${nats.outbox_depth} events in the outbox`;
}
