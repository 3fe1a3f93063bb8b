/**
 * The settings `tcfs device enroll` takes as flags, and what it carries into the env file so the
 * service sees the same store and NATS server as the enrollment did.
 *
 * @module
 */

import { resolve } from "node:path";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { findKeySpec, type KeySpec } from "../../core/config/config_schema.ts";
import type { ConfigFileUpdates } from "../../core/config/write_config.ts";
import { ENV_OVERRIDES } from "../../core/config/env_overrides.ts";
import { ENV_KEY_PAIRS } from "../../core/credentials/env_source.ts";
import { parseConfiguredMount } from "../../core/mount/configured_mount.ts";

/** The setting flags of `enroll`, as commander hands them over. */
export interface EnrollSettingFlags {
  name?: string;
  endpoint?: string;
  bucket?: string;
  namespace?: string;
  natsUrl?: string;
  syncRoot?: string;
  conflictMode?: string;
}

/** One flag that was given, checked against its config key. */
export interface FlagSetting {
  /** The flag as typed, e.g. `--nats-url`. */
  flag: string;
  spec: KeySpec;
  /** The value written to the config file. */
  value: string;
  /** The variable that overrides the same key, e.g. `TCFS_NATS_URL`. */
  envVar: string;
}

const FLAG_KEYS: [keyof EnrollSettingFlags, string, string, string][] = [
  ["name", "--name", "sync", "device_name"],
  ["endpoint", "--endpoint", "storage", "endpoint"],
  ["bucket", "--bucket", "storage", "bucket"],
  ["namespace", "--namespace", "sync", "namespace"],
  ["natsUrl", "--nats-url", "sync", "nats_url"],
  ["syncRoot", "--sync-root", "sync", "sync_root"],
  ["conflictMode", "--conflict-mode", "sync", "conflict_mode"],
];

/**
 * Variables carried from the enrolling shell into the env file: where the store and NATS are,
 * and the S3 keys, so the service reaches what the enrollment reached.
 */
const CARRIED_VARIABLES = [
  "TCFS_S3_ENDPOINT",
  "TCFS_S3_BUCKET",
  "TCFS_S3_REGION",
  "TCFS_NAMESPACE",
  "TCFS_NATS_URL",
];

/**
 * Checks the given flags against the config schema. A relative `--sync-root` is taken from the
 * working directory.
 *
 * @throws {TcfsError} (usage exit code) naming the flag, the value and what it accepts.
 *
 * @example
 * ```ts
 * checkEnrollFlags({ bucket: "tcfs", conflictMode: "auto" }, "/home/ada");
 * ```
 */
export function checkEnrollFlags(flags: EnrollSettingFlags, home: string): FlagSetting[] {
  return FLAG_KEYS.flatMap(([field, flag, section, key]) => {
    const raw = flags[field];
    if (raw === undefined) return [];
    const spec = findKeySpec(section, key)!;
    const text = field === "syncRoot" && !raw.startsWith("~") ? resolve(raw) : raw;
    const checked = spec.kind.check(text, home);
    if ("problem" in checked) {
      throw new TcfsError(`${flag} ${JSON.stringify(raw)} is not valid: ${checked.problem}`, {
        kind: "invalid_flag",
        exitCode: ExitCode.usage,
        hint: `give ${flag} ${spec.kind.accepted}`,
      });
    }
    const envVar = ENV_OVERRIDES.find((o) => o.spec === spec)!.envVar;
    return [{ flag, spec, value: text, envVar }];
  });
}

/**
 * The daemon's mounts after `--mount` flags: those configured already, then each new one (a
 * relative mount point taken from the working directory), checked as `[mount] mounts` entries.
 * Enrolling again with the same flag adds nothing.
 *
 * @throws {TcfsError} (usage exit code) naming the flag's value and what it accepts.
 *
 * @example
 * ```ts
 * enrolledMounts([], ["~/fleet", "/srv/papers=tcfs/default/papers"], "tcfs", "default", "/home/ada");
 * // ["/home/ada/fleet", "/srv/papers=tcfs/default/papers"]
 * ```
 */
export function enrolledMounts(
  configured: readonly string[],
  flags: readonly string[],
  bucket: string,
  namespace: string,
  home: string,
): string[] {
  const mounts = [...configured];
  for (const flag of flags) {
    const at = flag.indexOf("=");
    const point = at < 0 ? flag : flag.slice(0, at);
    const absolute = point === "~" || point.startsWith("~/")
      ? home + point.slice(1)
      : resolve(point);
    const entry = absolute + (at < 0 ? "" : flag.slice(at));
    try {
      parseConfiguredMount(entry, bucket, namespace);
    } catch (err) {
      throw new TcfsError(
        `--mount ${JSON.stringify(flag)} is not valid: ${(err as Error).message}`,
        {
          kind: "invalid_flag",
          exitCode: ExitCode.usage,
          hint: "give --mount a folder, or <folder>=<remote>, e.g. --mount ~/fleet",
        },
      );
    }
    if (!mounts.includes(entry)) mounts.push(entry);
  }
  return mounts;
}

/**
 * The flags as environment overrides, so loading the config with them gives the settings the
 * enrollment will write.
 *
 * @example
 * ```ts
 * flagEnvironment(checkEnrollFlags({ bucket: "lab" }, home)); // { TCFS_S3_BUCKET: "lab" }
 * ```
 */
export function flagEnvironment(settings: FlagSetting[]): Record<string, string> {
  return Object.fromEntries(settings.map((s) => [s.envVar, s.value]));
}

/**
 * The config file keys to write: the device name (whether or not `--name` was given) and every
 * flag given.
 *
 * @example
 * ```ts
 * configUpdates("yoga", settings); // { sync: { device_name: "yoga", ... }, storage: { ... } }
 * ```
 */
export function configUpdates(name: string, settings: FlagSetting[]): ConfigFileUpdates {
  const updates: ConfigFileUpdates = { sync: { device_name: name } };
  for (const { spec, value } of settings) {
    (updates[spec.section] ??= {})[spec.key] = value;
  }
  return updates;
}

/**
 * What the env file gets: the connection variables and S3 key pairs set in the real environment
 * (a key pair only when both halves are), and for every flag whose variable the env file or
 * the carried set would hold, the flag's value, so the file never contradicts the config.
 *
 * @param realEnv The process environment (not the env file).
 * @param fileEnv What the env file holds now.
 * @param settings The checked flags.
 *
 * @example
 * ```ts
 * envFileValues({ TCFS_S3_ACCESS: "…", TCFS_S3_SECRET: "…" }, {}, []);
 * // { TCFS_S3_ACCESS: "…", TCFS_S3_SECRET: "…" }
 * ```
 */
export function envFileValues(
  realEnv: Record<string, string | undefined>,
  fileEnv: Record<string, string>,
  settings: FlagSetting[],
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of CARRIED_VARIABLES) {
    const value = realEnv[name];
    if (value) values[name] = value;
  }
  for (const { access, secret } of ENV_KEY_PAIRS) {
    const [accessValue, secretValue] = [realEnv[access], realEnv[secret]];
    if (accessValue && secretValue) {
      Object.assign(values, { [access]: accessValue, [secret]: secretValue });
    }
  }
  for (const { envVar, value } of settings) {
    if (envVar in values || envVar in fileEnv) values[envVar] = value;
  }
  return values;
}
