/**
 * The `tcfs` command tree, and how its errors become messages and exit codes.
 *
 * @module
 */

import { Command, CommanderError } from "@commander-js/extra-typings";
import { describeError, ExitCode, explainSystemError, TcfsError } from "../core/errors.ts";
import { tcfsVersion } from "../core/version.ts";
import { pushCommand } from "./commands/push_command.ts";
import { pullCommand } from "./commands/pull_command.ts";
import { lsCommand } from "./commands/ls_command.ts";
import { logCommand } from "./commands/log_command.ts";
import { restoreCommand } from "./commands/restore_command.ts";
import { checkCommand } from "./commands/check_command.ts";
import { gcCommand } from "./commands/gc_command.ts";
import { storeCommand } from "./commands/store_command.ts";
import { syncStatusCommand } from "./commands/sync_status_command.ts";
import { configCommand } from "./commands/config_command.ts";
import { versionCommand } from "./commands/version_command.ts";
import { conflictsCommand, resolveConflictCommand } from "./commands/conflicts_command.ts";
import { deviceCommand } from "./commands/device_command.ts";
import { credsCommand } from "./commands/creds_command.ts";
import { doctorCommand } from "./commands/doctor_command.ts";
import { daemonCommand } from "./commands/daemon_command.ts";
import { statusCommand } from "./commands/status_command.ts";
import { mountCommand, unmountCommand } from "./commands/mount_command.ts";
import { pinCommand, unpinCommand } from "./commands/pin_command.ts";

/** Builds the program; exported for tests of the help text. */
export function tcfsProgram(): Command {
  const program = new Command("tcfs")
    .description("fleet file sync: one view of your folders on every machine, through S3 and NATS")
    .version(tcfsVersion(), "-V, --version")
    // Options after a command name are that command's: `tcfs restore --version <id>`.
    .enablePositionalOptions()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Quick start (no server needed: the store defaults to ~/.local/share/tcfs/store):
  tcfs push ~/notes                  # upload a folder to tcfs/default/notes
  tcfs ls                            # what the remote holds
  tcfs pull tcfs/default/notes ~/n2  # on another machine (or HOME)
  tcfs restore tcfs/default/notes --at 2h   # undo: the folder as it was 2 hours ago

Exit codes: 0 ok, 1 error, 2 usage, 3 conflicts found, 4 daemon not running.
Config: ~/.config/tcfs/config.toml (or TCFS_CONFIG); TCFS_* variables override it.`,
    );
  for (
    const command of [
      pushCommand(),
      pullCommand(),
      lsCommand(),
      mountCommand(),
      unmountCommand(),
      pinCommand(),
      unpinCommand(),
      logCommand(),
      restoreCommand(),
      syncStatusCommand(),
      checkCommand(),
      gcCommand(),
      storeCommand(),
      statusCommand(),
      conflictsCommand(),
      resolveConflictCommand(),
      deviceCommand(),
      credsCommand(),
      doctorCommand(),
      daemonCommand(),
      configCommand(),
      versionCommand(),
    ]
  ) {
    program.addCommand(command as unknown as Command);
  }
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  return program;
}

/**
 * Runs the CLI and returns the exit code; never throws.
 *
 * @example
 * ```ts
 * Deno.exit(await runTcfs(Deno.args));
 * ```
 */
export async function runTcfs(args: string[]): Promise<number> {
  const json = args.includes("--json");
  try {
    await tcfsProgram().parseAsync(args, { from: "user" });
    return Deno.exitCode ?? ExitCode.ok;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // Help and --version end with an "error" too; only real usage errors are failures.
      return thrown.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const err = explainSystemError(thrown);
    const exitCode = err instanceof TcfsError ? err.exitCode : ExitCode.error;
    if (json) {
      console.log(JSON.stringify({
        error: {
          kind: err instanceof TcfsError ? err.kind : "internal",
          message: err instanceof Error ? err.message : String(err),
          hint: err instanceof TcfsError ? err.hint : undefined,
        },
      }));
    } else {
      console.error(`tcfs: ${describeError(err)}`);
      if (!(err instanceof TcfsError) && err instanceof Error && Deno.env.get("TCFS_DEBUG")) {
        console.error(err.stack);
      }
    }
    return exitCode;
  }
}
