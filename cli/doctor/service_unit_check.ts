/**
 * `tcfs doctor`: is the daemon's service definition installed, so it starts at login or boot?
 *
 * @module
 */

import { TcfsError } from "../../core/errors.ts";
import {
  isServiceInstalled,
  serviceManagerFor,
  servicePath,
} from "../../platform/service_install.ts";
import { xdgDirs } from "../../platform/xdg_dirs.ts";
import { type CheckResult, checkResult } from "./doctor_check.ts";

const NAME = "service unit";

/**
 * The places the fleet guide installs the daemon's definition: on Linux the systemd user unit
 * `~/.config/systemd/user/tcfsd.service` or the system unit `/etc/systemd/system/tcfsd.service`,
 * on macOS the LaunchAgent `~/Library/LaunchAgents/com.tummycrypt.tcfsd.plist`.
 *
 * @throws {TcfsError} (kind `service_unsupported`) on systems without a supported manager.
 *
 * @example
 * ```ts
 * serviceUnitPaths({ HOME: "/home/ada" }, "linux");
 * // ["/home/ada/.config/systemd/user/tcfsd.service", "/etc/systemd/system/tcfsd.service"]
 * ```
 */
export function serviceUnitPaths(
  env: Record<string, string | undefined>,
  os: typeof Deno.build.os = Deno.build.os,
): string[] {
  const manager = serviceManagerFor(env, os);
  const dirs = xdgDirs(env);
  const user = servicePath(manager, false, dirs);
  return manager === "systemd" ? [user, servicePath(manager, true, dirs)] : [user];
}

/**
 * `ok` naming the installed definition, `warn` listing where it was looked for.
 *
 * @example
 * ```ts
 * const result = await serviceUnitCheck(runtime.env);
 * ```
 */
export async function serviceUnitCheck(
  env: Record<string, string | undefined>,
  os: typeof Deno.build.os = Deno.build.os,
): Promise<CheckResult> {
  let paths: string[];
  try {
    paths = serviceUnitPaths(env, os);
  } catch (err) {
    if (!(err instanceof TcfsError)) throw err;
    return checkResult(NAME, "ok", `not applicable: ${err.message}`);
  }
  for (const path of paths) {
    if (await isServiceInstalled(path)) return checkResult(NAME, "ok", `installed: ${path}`);
  }
  return checkResult(
    NAME,
    "warn",
    `not installed (looked for ${paths.join(" and ")})`,
    "`tcfs device enroll` installs and starts it",
  );
}
