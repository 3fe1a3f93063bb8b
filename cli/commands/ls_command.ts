/**
 * `tcfs ls [remote]`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { openCliRuntime } from "../cli_runtime.ts";
import { listRemote } from "../../core/sync/remote_listing.ts";
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
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs ls
  tcfs ls tcfs/default/docs
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
          options.all,
        );
        if (options.json) return printJson(rows);
        if (rows.length === 0) return console.log("(empty)");
        console.log(formatTable([
          ["SIZE", "MODIFIED", "BY", "PATH"],
          ...rows.map((r) => [
            r.kind === "file" ? formatBytes(r.size) : r.kind,
            r.written_at.slice(0, 19).replace("T", " "),
            r.author_name,
            r.remote + (r.kind === "symlink" ? " (link)" : "") +
            (r.conflict ? `  [CONFLICT: ${r.versions} versions]` : ""),
          ]),
        ]));
      } finally {
        runtime.close();
      }
    });
}
