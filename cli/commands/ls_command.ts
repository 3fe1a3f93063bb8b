/**
 * `tcfs ls [remote]`.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { openCliRuntime } from "../cli_runtime.ts";
import { listRemote, type RemoteEntry } from "../../core/sync/remote_listing.ts";
import { remoteSpecOrRoot } from "../../core/remote/remote_spec.ts";
import { formatBytes, formatTable, JSON_FLAG_HELP, printJson } from "../output.ts";

/** Builds the command. */
export function lsCommand() {
  return new Command("ls")
    .description("list the remote tree with sizes, authors and times")
    .argument(
      "[remote]",
      "remote prefix <bucket>/<namespace>/<path>; default: the configured namespace",
    )
    .option("--all", "include deleted paths")
    .addOption(
      new Option(
        "--deleted",
        "only deleted paths: when and by whom, and the size of what `tcfs restore` brings back",
      ).conflicts("all"),
    )
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs ls
  tcfs ls tcfs/default/docs
  tcfs ls --deleted                           # then: tcfs restore tcfs/default/<path>
  tcfs ls --json | jq '.[] | select(.conflict)'`,
    )
    .action(async (remote, options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const spec = remoteSpecOrRoot(remote, config.storage.bucket, config.sync.namespace);
        const rows = await listRemote(
          await runtime.syncContext(spec.namespace),
          spec.rel,
          options.deleted ? "only" : options.all ? "include" : "hide",
        );
        if (options.json) return printJson(rows);
        if (rows.length === 0) {
          return console.log(options.deleted ? "(nothing deleted)" : "(empty)");
        }
        console.log(formatTable(options.deleted ? deletedTable(rows) : liveTable(rows)));
      } finally {
        runtime.close();
      }
    });
}

function liveTable(rows: RemoteEntry[]): string[][] {
  return [
    ["SIZE", "MODIFIED", "BY", "PATH"],
    ...rows.map((r) => [
      r.kind === "file" ? formatBytes(r.size) : r.kind,
      shortTime(r.written_at),
      r.author_name,
      r.remote + (r.kind === "symlink" ? " (link)" : "") +
      (r.conflict ? `  [CONFLICT: ${r.versions} versions]` : ""),
    ]),
  ];
}

/** When and by whom each path was deleted, and what its last content was. */
function deletedTable(rows: RemoteEntry[]): string[][] {
  return [
    ["LAST SIZE", "DELETED", "BY", "PATH"],
    ...rows.map((r) => [
      r.last_content ? formatBytes(r.last_content.size) : "-",
      shortTime(r.written_at),
      r.author_name,
      r.remote + (r.last_content ? "" : "  (no content left in history)"),
    ]),
  ];
}

function shortTime(iso: string): string {
  return iso.slice(0, 19).replace("T", " ");
}
