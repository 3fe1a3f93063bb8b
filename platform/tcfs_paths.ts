/**
 * Where tcfs keeps each per-device file, all derived from the XDG base directories.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { xdgDirs } from "./xdg_dirs.ts";
import type { TcfsPaths } from "../core/config/device_paths.ts";

/**
 * Resolves tcfs's per-device paths from an environment. A relative `TCFS_CONFIG` is taken
 * relative to the working directory.
 *
 * @param env The environment to read; defaults to the process environment.
 *
 * @example
 * ```ts
 * const paths = tcfsPaths({ HOME: "/tmp/devA" });
 * paths.configFile; // "/tmp/devA/.config/tcfs/config.toml"
 * paths.storeDir; // "/tmp/devA/.local/share/tcfs/store"
 * ```
 */
export function tcfsPaths(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): TcfsPaths {
  const dirs = xdgDirs(env);
  const configDir = join(dirs.configHome, "tcfs");
  return {
    configFile: env.TCFS_CONFIG ? resolve(env.TCFS_CONFIG) : join(configDir, "config.toml"),
    envFile: join(configDir, "env"),
    secretsFile: join(configDir, "secrets.yaml"),
    ageKeyFile: join(dirs.configHome, "sops", "age", "keys.txt"),
    storeDir: join(dirs.dataHome, "tcfs", "store"),
    stateDb: join(dirs.stateHome, "tcfs", "state.db"),
    deviceFile: join(configDir, "device.json"),
    recoveryKeyFile: join(configDir, "recovery-key.txt"),
    cacheDir: join(dirs.cacheHome, "tcfs"),
  };
}

/** What decides the default daemon socket besides the environment. */
export interface SocketPathOptions {
  /** True for a system-wide daemon (a system unit, run as root). */
  system: boolean;
  /** The operating system, as `Deno.build.os` names it. */
  os: typeof Deno.build.os;
}

/**
 * The default path of the daemon's control socket, following the fleet deployment guide:
 *
 * - macOS: `$TMPDIR/tcfsd.sock` for a user daemon (`$TMPDIR` is a directory of the user's
 *   own there, which other users cannot enter); `/tmp/tcfsd.sock` for a system daemon or
 *   without `TMPDIR` (macOS has no `/run`; a socket there is checked to be the user's or
 *   root's before use, see `socket_trust.ts`);
 * - a system daemon elsewhere: `/run/tcfsd.sock`;
 * - a user daemon: `$XDG_RUNTIME_DIR/tcfsd.sock`;
 * - a user daemon without `XDG_RUNTIME_DIR` (no login session, e.g. under `su` or in a
 *   container): `<stateHome>/tcfs/tcfsd.sock`, which stays private to the user and per device.
 *
 * @param env The environment to read (`HOME`, `XDG_*`).
 * @param opts Whether the daemon is system-wide, and the OS.
 *
 * @example
 * ```ts
 * defaultSocketPath({ HOME: "/home/ada", XDG_RUNTIME_DIR: "/run/user/1000" }, {
 *   system: false,
 *   os: "linux",
 * }); // "/run/user/1000/tcfsd.sock"
 * ```
 */
export function defaultSocketPath(
  env: Record<string, string | undefined>,
  opts: SocketPathOptions,
): string {
  if (opts.os === "darwin") {
    return !opts.system && env.TMPDIR ? join(env.TMPDIR, "tcfsd.sock") : "/tmp/tcfsd.sock";
  }
  if (opts.system) return "/run/tcfsd.sock";
  const dirs = xdgDirs(env);
  return dirs.runtimeDir
    ? join(dirs.runtimeDir, "tcfsd.sock")
    : join(dirs.stateHome, "tcfs", "tcfsd.sock");
}
