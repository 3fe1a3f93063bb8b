/**
 * `tcfs version`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { versionInfo } from "../../core/version.ts";
import { JSON_FLAG_HELP, printJson } from "../output.ts";

/** Builds the command. */
export function versionCommand() {
  return new Command("version")
    .description("print the tcfs and Deno versions")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText("after", "\nExamples:\n  tcfs version\n  tcfs version --json")
    .action((options) => {
      const info = versionInfo();
      if (options.json) printJson(info);
      else console.log(`tcfs ${info.tcfs} (deno ${info.deno}, ${info.os}-${info.arch})`);
    });
}
