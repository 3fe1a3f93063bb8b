/**
 * Loading the effective configuration: built-in defaults, then the config file, then `TCFS_*`
 * environment variables.
 *
 * @module
 */

import { resolve } from "node:path";
import { TcfsError } from "../errors.ts";
import { defaultSocketPath, tcfsPaths } from "../../platform/tcfs_paths.ts";
import { hostName } from "../../platform/host_name.ts";
import { xdgDirs } from "../../platform/xdg_dirs.ts";
import { assignSetting, defaultSettings } from "./config_schema.ts";
import type { ConfigFileInfo, TcfsConfig } from "./config_schema.ts";
import { decodeFileSettings, parseConfigToml } from "./config_file.ts";
import { envSettings } from "./env_overrides.ts";

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /**
   * The environment, already merged with the env file (`mergeEnv`); defaults to the process
   * environment.
   */
  env?: Record<string, string | undefined>;
  /** The config file, e.g. from `--config`; overrides `TCFS_CONFIG` and the default path. */
  path?: string;
  /**
   * Whether tcfs runs as a system-wide daemon (or talks to one), which moves the default socket
   * to `/run/tcfsd.sock`. Defaults to running as root.
   */
  system?: boolean;
}

/**
 * Loads the effective configuration. A missing config file means the defaults.
 *
 * @throws {TcfsError} (kind `config_invalid`, usage exit code) when the file is not valid TOML,
 *   has an unknown section or key, or a bad value, or when an environment variable holds a bad
 *   value. Each message names the file or variable and the key, and the hint says how to fix it.
 *
 * @example
 * ```ts
 * const config = await loadConfig({ env: { HOME: "/tmp/devA", TCFS_CONFLICT_MODE: "auto" } });
 * config.sync.conflictMode; // "auto"
 * config.envSources; // { "sync.conflict_mode": "TCFS_CONFLICT_MODE" }
 * ```
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<TcfsConfig> {
  const env = options.env ?? Deno.env.toObject();
  const { home } = xdgDirs(env);
  const defaultPaths = tcfsPaths(env);
  const paths = { ...defaultPaths, configFile: resolve(options.path ?? defaultPaths.configFile) };
  const system = options.system ?? Deno.uid() === 0;
  const settings = defaultSettings({
    paths,
    socket: defaultSocketPath(env, { system, os: Deno.build.os }),
    deviceName: hostName(),
  });

  const { file, text } = await readConfigFile(paths.configFile);
  const fromFile = text === undefined
    ? []
    : decodeFileSettings(parseConfigToml(text, file.path), file.path, home);
  const fromEnv = envSettings(env, home);
  for (const { spec, value } of [...fromFile, ...fromEnv]) assignSetting(settings, spec, value);

  const envSources = Object.fromEntries(
    fromEnv.map(({ spec, envVar }) => [`${spec.section}.${spec.key}`, envVar]),
  );
  return { ...settings, file, envSources, paths };
}

async function readConfigFile(path: string): Promise<{ file: ConfigFileInfo; text?: string }> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new Error("it is not a regular file");
    const text = await Deno.readTextFile(path);
    return { file: { path, exists: true, mode: (info.mode ?? 0) & 0o7777 }, text };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { file: { path, exists: false } };
    throw new TcfsError(`cannot read config file ${path}: ${(err as Error).message}`, {
      hint: `make ${path} a regular file you can read, or point TCFS_CONFIG at another file`,
      kind: "config_invalid",
      cause: err,
    });
  }
}
