/**
 * The systemd unit `tcfsd.service` that `tcfs device enroll` writes (and the NixOS module in
 * `nix/tcfsd.nix` reproduces).
 *
 * @module
 */

import { TcfsError } from "../core/errors.ts";
import type { ServiceSpec } from "./service_spec.ts";

/** Bare words systemd reads back unchanged; anything else is quoted. */
const BARE_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/**
 * Renders the unit. `Type=notify`: the daemon reports READY itself (sd_notify), so systemd
 * knows when it really serves. Values are quoted and escaped the way systemd reads them back:
 * `%` doubled everywhere (specifiers), `$` doubled in arguments (variable expansion), words with
 * spaces or quotes in double quotes.
 *
 * @throws {TcfsError} (kind `service_invalid`) for what a unit cannot hold: line breaks or
 *   control characters anywhere, and quotes or backslashes in the executable's path, which
 *   systemd refuses.
 *
 * @example
 * ```ts
 * renderSystemdUnit({
 *   program: ["/usr/local/bin/tcfs", "daemon"],
 *   envFile: "/home/ada/.config/tcfs/env",
 *   environment: { TCFS_CONFIG: "/home/ada/.config/tcfs/config.toml" },
 *   system: false,
 * });
 * ```
 */
export function renderSystemdUnit(spec: ServiceSpec): string {
  const [executable, ...args] = spec.program;
  const environment = Object.entries(spec.environment).map(([name, value]) =>
    `Environment=${quoted(specifiers(`${name}=${value}`))}`
  );
  return [
    "# Written by `tcfs device enroll`; it is rewritten when you enroll again.",
    "[Unit]",
    "Description=tcfs fleet file sync daemon",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=notify",
    "NotifyAccess=all",
    `ExecStart=${[executableWord(executable), ...args.map(argumentWord)].join(" ")}`,
    `EnvironmentFile=-${specifiers(plainPath(spec.envFile))}`,
    ...environment,
    "Restart=on-failure",
    "RestartSec=5s",
    // The daemon finishes the file in flight and exits within 10 s of SIGTERM.
    "TimeoutStopSec=15s",
    "",
    "[Install]",
    `WantedBy=${spec.system ? "multi-user.target" : "default.target"}`,
    "",
  ].join("\n");
}

/** systemd expands `$VAR` in arguments but takes the executable's path literally. */
function executableWord(path: string): string {
  if (/["'\\]/.test(path)) {
    throw invalid(path, "systemd refuses an executable path with quotes or backslashes");
  }
  return quoted(specifiers(path));
}

function argumentWord(word: string): string {
  return quoted(specifiers(word).replaceAll("$", "$$$$"));
}

/** EnvironmentFile= takes the rest of the line as the path, spaces and all, without quotes. */
function plainPath(path: string): string {
  if (path !== path.trim()) throw invalid(path, "it starts or ends with white space");
  return path;
}

function specifiers(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is being refused
  if (text === "" || /[\x00-\x1f\x7f]/.test(text)) {
    throw invalid(text, "it is empty or has a line break or control character");
  }
  return text.replaceAll("%", "%%");
}

function quoted(text: string): string {
  return BARE_WORD.test(text) ? text : `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function invalid(text: string, problem: string): TcfsError {
  return new TcfsError(
    `${JSON.stringify(text)} cannot be written into a systemd unit: ${problem}`,
    {
      kind: "service_invalid",
      hint: "install tcfs and its config under paths without quotes, backslashes or line breaks",
    },
  );
}
