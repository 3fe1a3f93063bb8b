/**
 * What the platform tells tcfs about this device before any config is read: the environment
 * (the env file `~/.config/tcfs/env` under the real one), the per-device paths, the host name
 * and the default control socket. The CLI and the daemon read it here and hand it to core,
 * which never asks the OS itself.
 *
 * @module
 */

import { resolve } from "node:path";
import { mergeEnv, readEnvFile } from "./env_file.ts";
import { hostName } from "./host_name.ts";
import { defaultSocketPath, tcfsPaths } from "./tcfs_paths.ts";
import type { DeviceEnvironment, DevicePlatform } from "../core/config/device_environment.ts";
import { xdgDirs } from "./xdg_dirs.ts";

/** Options for {@linkcode devicePlatform}. */
export interface DevicePlatformOptions {
  /** The config file, e.g. from `--config`; overrides `TCFS_CONFIG` and the default path. */
  configPath?: string;
  /** A system-wide daemon (moves the socket to `/run/tcfsd.sock`); default: running as root. */
  system?: boolean;
}

/**
 * Derives the platform facts from an environment, without reading any file.
 *
 * @example
 * ```ts
 * devicePlatform({ HOME: "/tmp/devA" }, { system: false }).paths.stateDb;
 * // "/tmp/devA/.local/state/tcfs/state.db"
 * ```
 */
export function devicePlatform(
  env: Record<string, string | undefined>,
  options: DevicePlatformOptions = {},
): DevicePlatform {
  const paths = tcfsPaths(env);
  return {
    home: xdgDirs(env).home,
    paths: { ...paths, configFile: resolve(options.configPath ?? paths.configFile) },
    hostName: hostName(),
    socketPath: defaultSocketPath(env, {
      system: options.system ?? Deno.uid() === 0,
      os: Deno.build.os,
    }),
  };
}

/**
 * Reads the env file, merges the real environment over it, and derives the platform facts.
 *
 * @example
 * ```ts
 * const { env, platform } = await readDeviceEnvironment();
 * ```
 */
export async function readDeviceEnvironment(
  realEnv: Record<string, string | undefined> = Deno.env.toObject(),
  options: DevicePlatformOptions = {},
): Promise<DeviceEnvironment> {
  const env = mergeEnv(await readEnvFile(tcfsPaths(realEnv).envFile), realEnv);
  return { env, platform: devicePlatform(env, options) };
}
