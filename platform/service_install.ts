/**
 * Installing and starting the daemon's service definition: a systemd unit on Linux, a launchd
 * agent on macOS.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { ExitCode, TcfsError } from "../core/errors.ts";
import type { ServiceSpec } from "./service_spec.ts";
import { renderSystemdUnit } from "./systemd_unit.ts";
import { LAUNCHD_LABEL, renderLaunchdPlist } from "./launchd_plist.ts";
import { childEnv } from "./child_env.ts";

/** The service managers tcfs writes definitions for. */
export type ServiceManager = "systemd" | "launchd";

/** A rendered service definition and where it belongs. */
export interface ServiceFile {
  manager: ServiceManager;
  /** A system service rather than a user's. */
  system: boolean;
  /** Where the definition is installed. */
  path: string;
  /** Its contents. */
  text: string;
}

/** Where the per-user definitions live. */
export interface ServiceDirs {
  /** `$HOME`: macOS agents go to `~/Library/LaunchAgents`. */
  home: string;
  /** `$XDG_CONFIG_HOME`: systemd user units go to `<configHome>/systemd/user`. */
  configHome: string;
}

/** What happened when tcfs tried to start the service. */
export type ServiceStart =
  | { started: true; commands: string[] }
  /** No service manager is reachable (e.g. no systemd user instance); nothing was started. */
  | { started: false; commands: string[]; reason: string };

/** The systemd unit's file name. */
export const SYSTEMD_UNIT_NAME = "tcfsd.service";

/** Where a system unit is installed. */
const SYSTEM_UNIT_DIR = "/etc/systemd/system";

/**
 * The service manager of this machine: systemd on Linux, launchd on macOS.
 * `TCFS_SERVICE_PLATFORM=linux|darwin` overrides the OS, so tests can write either.
 *
 * @throws {TcfsError} (kind `service_unsupported`) on other systems.
 *
 * @example
 * ```ts
 * serviceManagerFor({ TCFS_SERVICE_PLATFORM: "darwin" }); // "launchd"
 * ```
 */
export function serviceManagerFor(
  env: Record<string, string | undefined>,
  os: typeof Deno.build.os = Deno.build.os,
): ServiceManager {
  const platform = env.TCFS_SERVICE_PLATFORM || os;
  if (platform === "linux") return "systemd";
  if (platform === "darwin") return "launchd";
  throw new TcfsError(`tcfs cannot install a service on ${platform}`, {
    kind: "service_unsupported",
    exitCode: ExitCode.usage,
    hint: "enroll with --no-service and start `tcfs daemon` another way",
  });
}

/**
 * Where the service definition is installed.
 *
 * @example
 * ```ts
 * servicePath("launchd", false, { home: "/Users/ada", configHome: "/Users/ada/.config" });
 * // "/Users/ada/Library/LaunchAgents/com.tummycrypt.tcfsd.plist"
 * ```
 */
export function servicePath(manager: ServiceManager, system: boolean, dirs: ServiceDirs): string {
  if (manager === "launchd") {
    return join(dirs.home, "Library", "LaunchAgents", `${LAUNCHD_LABEL}.plist`);
  }
  return join(
    system ? SYSTEM_UNIT_DIR : join(dirs.configHome, "systemd", "user"),
    SYSTEMD_UNIT_NAME,
  );
}

/**
 * Renders the definition for `manager` and picks its path.
 *
 * @throws {TcfsError} (kind `service_unsupported`) for a system-wide launchd service.
 *
 * @example
 * ```ts
 * const file = serviceFile(spec, "systemd", { home: "/home/ada", configHome: "/home/ada/.config" });
 * file.path; // "/home/ada/.config/systemd/user/tcfsd.service"
 * ```
 */
export function serviceFile(
  spec: ServiceSpec,
  manager: ServiceManager,
  dirs: ServiceDirs,
): ServiceFile {
  if (manager === "systemd") {
    return {
      manager,
      system: spec.system,
      path: servicePath(manager, spec.system, dirs),
      text: renderSystemdUnit(spec),
    };
  }
  if (spec.system) {
    throw new TcfsError("--system is for Linux; on macOS the daemon runs as your LaunchAgent", {
      kind: "service_unsupported",
      exitCode: ExitCode.usage,
      hint: "enroll without --system",
    });
  }
  return {
    manager,
    system: false,
    path: servicePath(manager, false, dirs),
    text: renderLaunchdPlist(spec),
  };
}

/**
 * Writes the definition (atomically, mode 0644) unless it already says the same.
 *
 * @example
 * ```ts
 * const outcome = await installServiceFile(file); // "created" | "updated" | "unchanged"
 * ```
 */
export async function installServiceFile(
  file: ServiceFile,
): Promise<"created" | "updated" | "unchanged"> {
  let current: string | undefined;
  try {
    current = await Deno.readTextFile(file.path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (current === file.text) return "unchanged";
  const dir = dirname(file.path);
  await Deno.mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(file.path)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    await Deno.writeTextFile(temp, file.text, { mode: 0o644 });
    await Deno.chmod(temp, 0o644);
    await Deno.rename(temp, file.path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  return current === undefined ? "created" : "updated";
}

/**
 * Whether a service definition is installed at `path`.
 *
 * @example
 * ```ts
 * await isServiceInstalled(file.path); // true after `tcfs device enroll`
 * ```
 */
export async function isServiceInstalled(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Enables and starts the installed service; `restart` also restarts a running daemon so it
 * picks up a changed definition. When no service manager answers (no systemd
 * instance for this user, no launchd session), it returns why instead of failing, because the
 * definition is in place and starts with the next login or boot.
 *
 * @throws {TcfsError} (kind `service_start_failed`) when the manager answers but refuses.
 *
 * @example
 * ```ts
 * const start = await startService(file, { restart: outcome === "updated" });
 * if (!start.started) console.log(`not started: ${start.reason}`);
 * ```
 */
export async function startService(
  file: ServiceFile,
  options: { restart: boolean },
): Promise<ServiceStart> {
  const steps = file.manager === "systemd"
    ? systemdSteps(file, options.restart)
    : launchdSteps(file);
  const commands: string[] = [];
  for (const [index, step] of steps.entries()) {
    commands.push(step.args.join(" "));
    const result = await run(step.args);
    if (result.ok || step.mayFail) continue;
    if (index === 0) return { started: false, commands, reason: noManagerReason(file, result) };
    throw new TcfsError(`\`${step.args.join(" ")}\` failed: ${result.message}`, {
      kind: "service_start_failed",
      hint: file.manager === "systemd"
        ? `see \`journalctl ${file.system ? "" : "--user "}-u tcfsd\` and \`systemctl ${
          file.system ? "" : "--user "
        }status tcfsd\``
        : "see /tmp/tcfsd.stderr.log and `launchctl print gui/$(id -u)/com.tummycrypt.tcfsd`",
    });
  }
  return { started: true, commands };
}

interface Step {
  args: string[];
  /** Failing is expected, e.g. unloading an agent that was not loaded. */
  mayFail?: boolean;
}

/** The first step doubles as the probe: if it fails, no manager is reachable. */
function systemdSteps(file: ServiceFile, restart: boolean): Step[] {
  const systemctl = file.system ? ["systemctl"] : ["systemctl", "--user"];
  return [
    { args: [...systemctl, "daemon-reload"] },
    { args: [...systemctl, "enable", "--now", SYSTEMD_UNIT_NAME] },
    // --now leaves a daemon that was already running on the old definition.
    ...(restart ? [{ args: [...systemctl, "try-restart", SYSTEMD_UNIT_NAME] }] : []),
  ];
}

/** Unloading first makes bootstrap load the current plist whether or not the agent ran. */
function launchdSteps(file: ServiceFile): Step[] {
  const domain = `gui/${Deno.uid()}`;
  return [
    { args: ["launchctl", "print", domain] },
    { args: ["launchctl", "bootout", `${domain}/${LAUNCHD_LABEL}`], mayFail: true },
    { args: ["launchctl", "bootstrap", domain, file.path] },
  ];
}

function noManagerReason(file: ServiceFile, result: { message: string }): string {
  const what = file.manager === "launchd"
    ? "no launchd GUI session is running for this user"
    : file.system
    ? "systemd is not running as the init system here"
    : "no systemd user manager is running for this user";
  return `${what} (${result.message})`;
}

/** What systemctl (--user finds the user manager through the last two) and launchctl need. */
const SERVICE_MANAGER_ENV = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "XDG_RUNTIME_DIR",
  "DBUS_SESSION_BUS_ADDRESS",
];

async function run(args: string[]): Promise<{ ok: boolean; message: string }> {
  try {
    const output = await new Deno.Command(args[0], {
      args: args.slice(1),
      env: childEnv(Deno.env.toObject(), SERVICE_MANAGER_ENV),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n")[0] ?? "";
    return { ok: output.success, message: stderr || `exit code ${output.code}` };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { ok: false, message: `${args[0]} is not installed` };
    }
    throw err;
  }
}
