/**
 * `TCFS_*` environment variables that override config file settings. {@linkcode ENV_OVERRIDES}
 * is the one list of them; the README's table is generated from it.
 *
 * @module
 */

import { decodeSetting, findKeySpec } from "./config_schema.ts";
import type { KeySpec } from "./config_schema.ts";

/** An environment variable and the setting it overrides. */
export interface EnvOverride {
  /** The variable's name, e.g. `TCFS_S3_ENDPOINT`. */
  envVar: string;
  /** The setting it overrides. */
  spec: KeySpec;
}

function override(envVar: string, section: string, key: string): EnvOverride {
  const spec = findKeySpec(section, key);
  if (!spec) throw new Error(`${envVar} overrides an unknown setting [${section}] ${key}`);
  return { envVar, spec };
}

/** Every environment variable that overrides a setting. An empty variable counts as unset. */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  override("TCFS_S3_ENDPOINT", "storage", "endpoint"),
  override("TCFS_S3_BUCKET", "storage", "bucket"),
  override("TCFS_S3_REGION", "storage", "region"),
  override("TCFS_NAMESPACE", "sync", "namespace"),
  override("TCFS_SYNC_ROOT", "sync", "sync_root"),
  override("TCFS_EXCLUDE_PATTERNS", "sync", "exclude_patterns"),
  override("TCFS_DEVICE_NAME", "sync", "device_name"),
  override("TCFS_CONFLICT_MODE", "sync", "conflict_mode"),
  override("TCFS_MAX_CONFLICTS", "sync", "max_conflicts"),
  override("TCFS_SYNC_LINKS", "sync", "links"),
  override("TCFS_NATS_URL", "sync", "nats_url"),
  override("TCFS_POLL_INTERVAL_SECS", "sync", "poll_interval_secs"),
  override("TCFS_MASS_DELETE_RATIO", "sync", "mass_delete_ratio"),
  override("TCFS_MASS_DELETE_MIN_FILES", "sync", "mass_delete_min_files"),
  override("TCFS_HISTORY_KEEP_DAYS", "history", "keep_days"),
  override("TCFS_HISTORY_KEEP_LAST", "history", "keep_last"),
  override("TCFS_HISTORY_STAGGERED", "history", "staggered"),
  override("TCFS_HISTORY_GC_INTERVAL_SECS", "history", "gc_interval_secs"),
  override("TCFS_HISTORY_GC_MIN_AGE_SECS", "history", "gc_min_age_secs"),
  override("TCFS_NATS_CREDS", "nats", "creds_file"),
  override("TCFS_NATS_DOMAIN", "nats", "domain"),
  override("TCFS_NATS_REPLICAS", "nats", "replicas"),
  override("TCFS_SOCKET", "daemon", "socket"),
  override("TCFS_METRICS_ADDR", "daemon", "metrics_addr"),
  override("TCFS_LOG", "daemon", "log_level"),
  override("TCFS_LOG_FORMAT", "daemon", "log_format"),
  override("TCFS_KDBX_PATH", "secrets", "kdbx_path"),
  override("TCFS_SOPS_FILE", "secrets", "sops_file"),
];

/** A checked setting from the environment. */
export interface EnvSetting extends EnvOverride {
  /** The checked, normalised value. */
  value: unknown;
}

/**
 * Reads the overriding variables that are set (and not empty) and checks their values.
 *
 * @param env The environment to read.
 * @param home The home directory a leading `~` stands for.
 * @throws {TcfsError} (kind `config_invalid`) naming the variable when a value is bad.
 *
 * @example
 * ```ts
 * envSettings({ TCFS_CONFLICT_MODE: "auto" }, "/home/ada")[0].value; // "auto"
 * ```
 */
export function envSettings(env: Record<string, string | undefined>, home: string): EnvSetting[] {
  return ENV_OVERRIDES.flatMap(({ envVar, spec }) => {
    const text = env[envVar];
    if (!text) return [];
    return [{ envVar, spec, value: decodeSetting(spec, text, { envVar }, home) }];
  });
}

/**
 * The Markdown table of environment variables for the README.
 *
 * @example
 * ```ts
 * console.log(envOverridesMarkdown()); // | Variable | Overrides | Meaning | ...
 * ```
 */
export function envOverridesMarkdown(): string {
  const rows = ENV_OVERRIDES.map(({ envVar, spec }) =>
    `| \`${envVar}\` | \`[${spec.section}] ${spec.key}\` | ${spec.doc} |`
  );
  return [
    "| Variable | Overrides | Meaning |",
    "|---|---|---|",
    "| `TCFS_CONFIG` | | the config file (default `~/.config/tcfs/config.toml`) |",
    ...rows,
  ].join("\n") + "\n";
}
