/**
 * `tcfs log <path>`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { openCliRuntime } from "../cli_runtime.ts";
import { type LogEntry, pathLog } from "../../core/history/history_report.ts";
import { formatBytes, formatTable, JSON_FLAG_HELP, printJson } from "../output.ts";
import { remoteSpecText, servingDaemon } from "../daemon_connection.ts";
import { pathArgument } from "../path_argument.ts";

/** Builds the command. */
export function logCommand() {
  return new Command("log")
    .description("list every version history keeps of a file, newest first")
    .argument("<path>", "remote path <bucket>/<namespace>/<path>, or a local file")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Each version shows its id (what \`tcfs restore --version\` takes), when and on which
device it was written, its size and digest. "current" marks the file as it is now
(two current versions: a conflict), "deleted" a deletion, "conflict" a version
written concurrently with another. History keeps what the retention policy keeps
([history] keep_days, keep_last).

Examples:
  tcfs log tcfs/default/notes.txt
  tcfs log ~/Sync/notes.txt                 # a file inside sync_root, even a deleted one
  tcfs log ~/Sync/notes.txt --json | jq -r '.entries[] | select(.kind == "file") | .id'`,
    )
    .action(async (path, options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const spec = pathArgument(path, config);
        using daemon = await servingDaemon(runtime);
        const log = daemon
          ? await daemon.log({ remote: remoteSpecText(config.storage.bucket, spec) })
          : await pathLog(await runtime.syncContext(spec.namespace), spec.rel);
        if (options.json) return printJson(log);
        const count = log.entries.length;
        console.log(`${log.remote}: ${count} version${count === 1 ? "" : "s"}, newest first`);
        console.log(formatTable([
          ["VERSION", "WRITTEN (UTC)", "DEVICE", "SIZE", "DIGEST", ""],
          ...log.entries.map((e) => [
            e.id,
            e.written_at.slice(0, 19).replace("T", " "),
            e.author_name,
            e.kind === "file" ? formatBytes(e.size) : "-",
            e.blake3 ? e.blake3.slice(0, 12) : "-",
            marks(e).join(", "),
          ]),
        ]));
      } finally {
        runtime.close();
      }
    });
}

/** What the last column says of an entry. */
function marks(entry: LogEntry): string[] {
  return [
    ...(entry.kind === "deleted" ? ["deleted"] : entry.kind === "symlink" ? ["link"] : []),
    ...(entry.head ? ["current"] : []),
    ...(entry.conflict ? ["conflict"] : []),
  ];
}
