/**
 * Loading the effective configuration: built-in defaults, then the config file, then `TCFS_*`
 * environment variables.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import type { DeviceEnvironment } from "./device_environment.ts";
import { assignSetting, defaultSettings } from "./config_schema.ts";
import type { ConfigFileInfo, TcfsConfig } from "./config_schema.ts";
import { decodeFileSettings, parseConfigToml } from "./config_file.ts";
import { envSettings } from "./env_overrides.ts";
import { refuseSharedSecrets } from "../credentials/private_file.ts";

/**
 * Loads the effective configuration. A missing config file means the defaults.
 *
 * @throws {TcfsError} (kind `config_invalid`, usage exit code) when the file is not valid TOML,
 *   has an unknown section or key, or a bad value, or when an environment variable holds a bad
 *   value. Each message names the file or variable and the key, and the hint says how to fix it.
 *
 * `environment` comes from `readDeviceEnvironment` (or, without the env file, `devicePlatform`)
 * in `platform/`: core derives nothing from the OS itself.
 *
 * @example
 * ```ts
 * const env = { HOME: "/tmp/devA", TCFS_CONFLICT_MODE: "auto" };
 * const config = await loadConfig({ env, platform: devicePlatform(env) });
 * config.sync.conflictMode; // "auto"
 * config.envSources; // { "sync.conflict_mode": "TCFS_CONFLICT_MODE" }
 * ```
 */
export async function loadConfig(environment: DeviceEnvironment): Promise<TcfsConfig> {
  const { env, platform } = environment;
  const { home, paths } = platform;
  const settings = defaultSettings({
    paths,
    socket: platform.socketPath,
    deviceName: platform.hostName,
  });

  const { file, text } = await readConfigFile(paths.configFile);
  const fromFile = text === undefined
    ? []
    : decodeFileSettings(parseConfigToml(text, file.path), file.path, home);
  const natsUrl = fromFile.find(({ spec }) => spec.section === "sync" && spec.key === "nats_url");
  if (typeof natsUrl?.value === "string" && natsUrl.value.includes("@")) {
    const holds = "NATS credentials in [sync] nats_url";
    refuseSharedSecrets({ what: "config file", path: file.path, holds }, file.mode);
  }
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
