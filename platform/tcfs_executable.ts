/**
 * The command that starts this same tcfs again, for service definitions.
 *
 * @module
 */

import { basename, isAbsolute } from "node:path";
import { TcfsError } from "../core/errors.ts";

/**
 * The absolute path of the running tcfs: the compiled binary itself, or, when tcfs runs from
 * source (the executable is Deno), the launcher script `scripts/tcfs` that started it, which
 * it announces in `TCFS_LAUNCHER`.
 *
 * @param env The environment to read `TCFS_LAUNCHER` from.
 * @param execPath The running executable, `Deno.execPath()`.
 * @throws {TcfsError} (kind `executable_unknown`) when running from source without the launcher.
 *
 * @example
 * ```ts
 * const execStart = [tcfsExecutable(), "daemon"];
 * ```
 */
export function tcfsExecutable(
  env: Record<string, string | undefined> = Deno.env.toObject(),
  execPath: string = Deno.execPath(),
): string {
  if (!/^deno(\.exe)?$/.test(basename(execPath))) return execPath;
  const launcher = env.TCFS_LAUNCHER;
  if (launcher && isAbsolute(launcher)) return launcher;
  throw new TcfsError(
    "tcfs runs from source without its launcher, so a service could not start it",
    {
      kind: "executable_unknown",
      hint: "run tcfs through scripts/tcfs (it sets TCFS_LAUNCHER) or use the compiled binary",
    },
  );
}
