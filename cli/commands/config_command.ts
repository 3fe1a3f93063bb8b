/**
 * `tcfs config show`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { openCliRuntime } from "../cli_runtime.ts";
import { configToJson, renderConfig } from "../../core/config/render_config.ts";
import { JSON_FLAG_HELP, printJson } from "../output.ts";

/** Builds the command group. */
export function configCommand() {
  const config = new Command("config").description("inspect the configuration");
  config.command("show")
    .description("print the effective config (file, then TCFS_* env) with secrets redacted")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      "\nExamples:\n  tcfs config show\n  TCFS_CONFIG=./lab.toml tcfs config show --json",
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        if (options.json) printJson(configToJson(runtime.config));
        else console.log(renderConfig(runtime.config));
      } finally {
        runtime.close();
      }
    });
  return config;
}
