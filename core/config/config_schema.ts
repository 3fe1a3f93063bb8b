/**
 * The shape of tcfs's configuration: its sections and keys, the values each key accepts, and
 * their defaults. One table ({@linkcode KEY_SPECS}) drives loading, validation, environment
 * overrides and rendering, so a key is declared once.
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";
import { ExitCode, TcfsError } from "../errors.ts";
import type { TcfsPaths } from "./device_paths.ts";
import { NATS_URL_FORM, natsUrlListProblem } from "./nats_url_list.ts";

/**
 * How concurrent edits are settled: `interactive` queues them for the user, `auto` lets the
 * lexicographically smaller device name win and keeps the other side as a conflict copy,
 * `defer` logs and queues them and touches nothing.
 */
export const CONFLICT_MODES = ["interactive", "auto", "defer"] as const;
/** One of {@linkcode CONFLICT_MODES}. */
export type ConflictMode = typeof CONFLICT_MODES[number];

/**
 * What happens to symlinks: `keep` syncs them as links, recreated exactly as they were
 * (absolute or relative), `skip` neither pushes nor pulls them.
 */
const LINK_MODES = ["keep", "skip"] as const;
/** One of {@linkcode LINK_MODES}. */
export type LinkMode = typeof LINK_MODES[number];

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Log output formats: text for terminals and journald, JSON lines for collectors. */
export const LOG_FORMATS = ["text", "json"] as const;
/** One of {@linkcode LOG_FORMATS}. */
export type LogFormat = typeof LOG_FORMATS[number];

/** `[storage]`: where the bucket lives. */
export interface StorageConfig {
  /** `""` for the embedded local store, `file:///dir`, or `http(s)://host:port`. */
  endpoint: string;
  /** The bucket holding chunks, versions and the device registry. */
  bucket: string;
  /** The S3 region. */
  region: string;
  /** Plaintext access key from the config file: the last-resort credential source. */
  s3Access?: string;
  /** Plaintext secret key from the config file: the last-resort credential source. */
  s3Secret?: string;
}

/** `[sync]`: what is synced, and how. */
export interface SyncConfig {
  /** The remote namespace: remote paths are `<bucket>/<namespace>/<path>`. */
  namespace: string;
  /** Absolute, with `~` expanded. */
  syncRoot?: string;
  /** Globs of paths never synced. */
  excludePatterns: string[];
  /** This device's name in the fleet; the host name by default. */
  deviceName: string;
  /** How concurrent edits are settled. */
  conflictMode: ConflictMode;
  /** Conflict copies kept per path; older ones are deleted (fleet-wide) past this many. */
  maxConflicts: number;
  /** Whether symlinks are synced. */
  links: LinkMode;
  /** The NATS server for live events; without one the daemon polls the store. */
  natsUrl?: string;
  /** How often the daemon polls the store when NATS is absent or down. */
  pollIntervalSecs: number;
  /** How long the daemon waits for file changes to settle before pushing. */
  debounceMs: number;
  /** A push deleting more than this share (0 to 1) of the files synced from a folder stops. */
  massDeleteRatio: number;
  /** …but only when it deletes at least this many files. */
  massDeleteMinFiles: number;
}

/**
 * `[history]`: how long old versions of the device's namespace (`[sync] namespace`) are kept,
 * and how often its daemon collects what fell out. A version is kept while any rule keeps it;
 * the current heads are always kept.
 */
export interface HistoryConfig {
  /** Days a superseded or deleted version is kept; 0 keeps none by age. */
  keepDays: number;
  /** Versions kept per path whatever their age, newest first, heads and deletions included. */
  keepLast: number;
  /** Also keep one version per hour for a day, per day for 30 days, and per week after. */
  staggered: boolean;
  /** How often the daemon runs gc on its namespace; 0 never. */
  gcIntervalSecs: number;
  /** How long a pack no kept version references waits before gc deletes it. */
  gcMinAgeSecs: number;
}

/** `[mount]`: on-demand files (`tcfs mount`). */
export interface MountConfig {
  /** Bytes of verified chunks kept on disk for mounts, least recently used evicted first. */
  cacheSize: number;
  /** Seconds a read through a mount waits for the store before it fails with EIO. */
  readTimeoutSecs: number;
  /** What the daemon mounts: `"<mountpoint>"` or `"<mountpoint>=<remote>"` each. */
  mounts: string[];
  /** Seconds without a write after which a file kept open is pushed all the same. */
  writeQuietSecs: number;
}

/** `[nats]`: how to authenticate to NATS and which JetStream domain to use. */
export interface NatsConfig {
  /** A NATS `.creds` file (JWT and NKey seed). */
  credsFile?: string;
  /** User name, with {@linkcode NatsConfig.password}. */
  user?: string;
  /** Password for {@linkcode NatsConfig.user}. Secret. */
  password?: string;
  /** Authentication token. Secret. */
  token?: string;
  /** CA certificate that verifies the server's TLS certificate. */
  tlsCaFile?: string;
  /** The JetStream domain, for leaf-node set-ups. */
  domain?: string;
  /**
   * Copies of the state stream (and its consumers) the JetStream cluster keeps; unset: 3 when
   * the server connected to reports at least 3 servers in its cluster, else 1.
   */
  replicas?: number;
}

/** `[daemon]`: the control socket, metrics and logging. */
export interface DaemonConfig {
  /** The control socket's path. */
  socket: string;
  /** `host:port` serving `/metrics`, `/healthz` and `/readyz`. */
  metricsAddr: string;
  /** The lowest level logged. */
  logLevel: LogLevel;
  /** Text or JSON lines on stderr. */
  logFormat: LogFormat;
}

/** `[secrets]`: where the credential sources are. */
export interface SecretsConfig {
  /** The SOPS-encrypted credentials file. */
  sopsFile: string;
  /** The directory of sops-nix secret files (`s3_access`, `s3_secret`, ...). */
  sopsNixDir: string;
  /** An age identity file to try besides the usual places. */
  ageIdentityFile?: string;
  /** The KeePassXC database holding the S3 credentials. */
  kdbxPath?: string;
  /** The entry's path in the database: groups, then the title. */
  kdbxEntry: string;
  /** A key file that unlocks the database, with or instead of a password. */
  kdbxKeyFile?: string;
}

/** All configurable settings, by section. */
export interface ConfigSettings {
  /** `[storage]` */
  storage: StorageConfig;
  /** `[sync]` */
  sync: SyncConfig;
  /** `[history]` */
  history: HistoryConfig;
  /** `[mount]` */
  mount: MountConfig;
  /** `[nats]` */
  nats: NatsConfig;
  /** `[daemon]` */
  daemon: DaemonConfig;
  /** `[secrets]` */
  secrets: SecretsConfig;
}

/** A section of the config file. */
export type SectionName = keyof ConfigSettings;

/** The sections in the order they are documented and rendered. */
export const SECTION_NAMES: readonly SectionName[] = [
  "storage",
  "sync",
  "history",
  "mount",
  "nats",
  "daemon",
  "secrets",
];

/** The config file the settings came from. */
export interface ConfigFileInfo {
  /** Absolute path of the config file, whether or not it exists. */
  path: string;
  /** Whether the file exists; when it does not, the defaults apply. */
  exists: boolean;
  /** Permission bits (e.g. `0o600`) when the file exists, to refuse readable secrets. */
  mode?: number;
}

/** The effective configuration: defaults, then the file, then `TCFS_*` environment variables. */
export interface TcfsConfig extends ConfigSettings {
  /** The config file the settings came from. */
  file: ConfigFileInfo;
  /** The settings taken from the environment: `"section.key"` → variable name. */
  envSources: Record<string, string>;
  /** The per-device paths, resolved from the same environment. */
  paths: TcfsPaths;
}

/** The outcome of checking a raw value: the normalised value, or what is wrong with it. */
export type CheckedValue = { value: unknown } | { problem: string };

/** The values a key accepts. */
export interface ValueKind {
  /** What valid values look like, for hints, e.g. `"auto", "interactive" or "defer"`. */
  accepted: string;
  /** Turns an environment variable's text into the value a TOML file would hold. */
  fromEnv(text: string): unknown;
  /** Checks and normalises a raw value; `home` expands a leading `~`. */
  check(raw: unknown, home: string): CheckedValue;
}

/** One key of the config file. */
export interface KeySpec {
  /** The section the key belongs to. */
  section: SectionName;
  /** The name in the TOML file (snake_case). */
  key: string;
  /** The field name in {@linkcode ConfigSettings} (camelCase). */
  field: string;
  /** The values the key accepts. */
  kind: ValueKind;
  /** Secret values are never shown: not in errors, not in `config show`. */
  secret: boolean;
  /** One line for documentation. */
  doc: string;
}

export { REDACTED, redactUrlCredentials } from "./url_credentials.ts";
import { redactUrlCredentials } from "./url_credentials.ts";

const asText = (text: string): unknown => text;

function typeName(raw: unknown): string {
  if (Array.isArray(raw)) return "an array";
  if (raw instanceof Date) return "a date";
  if (typeof raw === "number") return Number.isInteger(raw) ? "an integer" : "a float";
  if (typeof raw === "object" && raw !== null) return "a table";
  return `a ${typeof raw}`;
}

function stringKind(
  accepted: string,
  problemOf: (text: string, home: string) => CheckedValue = (value) => ({ value }),
): ValueKind {
  return {
    accepted,
    fromEnv: asText,
    check: (raw, home) =>
      typeof raw === "string"
        ? problemOf(raw, home)
        : { problem: `expected a string, not ${typeName(raw)}` },
  };
}

const anyText = stringKind("a string");

const nonEmptyText = stringKind(
  "a non-empty string",
  (value) => value === "" ? { problem: "it is empty" } : { value },
);

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const nameText = stringKind(
  "1 to 128 letters, digits, '.', '-' or '_', starting with a letter or digit",
  (value) => NAME_PATTERN.test(value) ? { value } : { problem: "it is not a valid name" },
);

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const bucketName = stringKind(
  "an S3 bucket name: 3 to 63 lowercase letters, digits, '.' or '-', " +
    "starting and ending with a letter or digit",
  (value) => BUCKET_PATTERN.test(value) ? { value } : { problem: "it is not a valid bucket name" },
);

function urlProblem(text: string, schemes: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "it is not a URL";
  }
  if (!schemes.includes(url.protocol)) return `the scheme ${url.protocol} is not supported`;
  if (url.protocol === "file:" && url.host !== "") {
    return "a file: URL has no host; write file:///absolute/dir";
  }
  return undefined;
}

const endpointUrl = stringKind(
  '"" (the embedded local store), file:///absolute/dir, or http(s)://host:port',
  (value) => {
    const problem = value === "" ? undefined : urlProblem(value, ["file:", "http:", "https:"]);
    return problem ? { problem } : { value };
  },
);

const natsUrlList = stringKind(NATS_URL_FORM, (value) => {
  const problem = natsUrlListProblem(value);
  return problem ? { problem } : { value: value.split(",").map((entry) => entry.trim()).join(",") };
});

const HOST_PORT_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;
const hostPort = stringKind("host:port, e.g. 127.0.0.1:9100", (value) => {
  const port = HOST_PORT_PATTERN.exec(value)?.[2];
  return port !== undefined && Number(port) <= 65535
    ? { value }
    : { problem: "it is not host:port" };
});

const absolutePath = stringKind(
  "an absolute path (a leading ~/ means your home directory)",
  (value, home) => {
    const expanded = value === "~"
      ? home
      : value.startsWith("~/")
      ? join(home, value.slice(2))
      : value;
    return isAbsolute(expanded)
      ? { value: resolve(expanded) }
      : { problem: "it is a relative path" };
  },
);

function oneOf(values: readonly string[]): ValueKind {
  const quoted = values.map((value) => JSON.stringify(value));
  return stringKind(
    `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`,
    (value) => values.includes(value) ? { value } : { problem: "it is not one of the choices" },
  );
}

function integerFromTo(min: number, max: number): ValueKind {
  const atLeast = integerAtLeast(min);
  return {
    accepted: `a whole number from ${min} to ${max}`,
    fromEnv: atLeast.fromEnv,
    check(raw) {
      const checked = atLeast.check(raw, "");
      if ("problem" in checked) return checked;
      return raw as number > max ? { problem: `it is more than ${max}` } : checked;
    },
  };
}

function integerAtLeast(min: number): ValueKind {
  return {
    accepted: `a whole number, at least ${min}`,
    fromEnv: (text) => /^[+-]?\d+$/.test(text.trim()) ? Number(text) : text,
    check(raw) {
      if (typeof raw !== "number" || !Number.isInteger(raw)) {
        return { problem: `expected a whole number, not ${typeName(raw)}` };
      }
      return raw < min ? { problem: `it is less than ${min}` } : { value: raw };
    },
  };
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
};

/** A byte count: a whole number, or text such as `"10GiB"`, `"500M"` (binary units). */
const byteSize: ValueKind = {
  accepted: 'a whole number of bytes, or a size such as "10GiB" or "500MiB"',
  fromEnv: (text) => /^\d+$/.test(text.trim()) ? Number(text) : text,
  check(raw) {
    if (typeof raw === "number") {
      return Number.isInteger(raw) && raw > 0
        ? { value: raw }
        : { problem: "it is not a positive whole number" };
    }
    if (typeof raw !== "string") return { problem: `expected a size, not ${typeName(raw)}` };
    const match = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(raw);
    if (!match) return { problem: "it is not a size" };
    const bytes = Math.floor(Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()]);
    return bytes > 0 ? { value: bytes } : { problem: "it is zero" };
  },
};

const ENV_BOOLEANS = new Map([["true", true], ["1", true], ["false", false], ["0", false]]);

const trueOrFalse: ValueKind = {
  accepted: "true or false (in the environment also 1 or 0)",
  fromEnv: (text) => ENV_BOOLEANS.get(text.trim().toLowerCase()) ?? text,
  check: (raw) =>
    typeof raw === "boolean"
      ? { value: raw }
      : { problem: `expected true or false, not ${typeName(raw)}` },
};

const ratio: ValueKind = {
  accepted: "a number from 0 to 1, e.g. 0.5",
  fromEnv: (text) => /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(text) ? Number(text) : text,
  check(raw) {
    if (typeof raw !== "number" || Number.isNaN(raw)) {
      return { problem: `expected a number, not ${typeName(raw)}` };
    }
    return raw < 0 || raw > 1 ? { problem: "it is not between 0 and 1" } : { value: raw };
  },
};

const stringList: ValueKind = {
  accepted: 'an array of strings, e.g. ["*.swp", ".direnv"] (in the environment: comma-separated)',
  fromEnv: (text) => text.split(",").map((item) => item.trim()).filter((item) => item !== ""),
  check(raw) {
    if (!Array.isArray(raw)) return { problem: `expected an array, not ${typeName(raw)}` };
    const odd = raw.find((item) => typeof item !== "string");
    return odd === undefined
      ? { value: [...raw] }
      : { problem: `expected strings only, found ${typeName(odd)}` };
  },
};

function keySpec(
  section: SectionName,
  key: string,
  kind: ValueKind,
  doc: string,
  secret = false,
): KeySpec {
  const field = key.replace(/_([a-z0-9])/g, (_, char: string) => char.toUpperCase());
  return { section, key, field, kind, secret, doc };
}

/** Every key of the config file, by section, in documentation order. */
export const KEY_SPECS: readonly KeySpec[] = [
  keySpec(
    "storage",
    "endpoint",
    endpointUrl,
    "S3 endpoint, `file:///dir`, or empty for the embedded store",
  ),
  keySpec("storage", "bucket", bucketName, "the bucket holding chunks, versions and the registry"),
  keySpec("storage", "region", nonEmptyText, "the S3 region"),
  keySpec("storage", "s3_access", anyText, "S3 access key in plaintext (last resort)", true),
  keySpec("storage", "s3_secret", anyText, "S3 secret key in plaintext (last resort)", true),
  keySpec("sync", "namespace", nameText, "the remote namespace (`<bucket>/<namespace>/...`)"),
  keySpec("sync", "sync_root", absolutePath, "the local folder kept in sync"),
  keySpec(
    "sync",
    "exclude_patterns",
    stringList,
    "glob patterns never synced (comma-separated in the environment)",
  ),
  keySpec("sync", "device_name", nameText, "this device's name (default: the host name)"),
  keySpec("sync", "conflict_mode", oneOf(CONFLICT_MODES), "how concurrent edits are settled"),
  keySpec(
    "sync",
    "max_conflicts",
    integerAtLeast(1),
    "conflict copies kept per file, newest first",
  ),
  keySpec(
    "sync",
    "links",
    oneOf(LINK_MODES),
    "`keep`: sync symlinks as they are; `skip`: ignore them",
  ),
  keySpec(
    "sync",
    "nats_url",
    natsUrlList,
    "the NATS server(s) for live events, comma-separated for a cluster",
  ),
  keySpec("sync", "poll_interval_secs", integerAtLeast(1), "store polling interval without NATS"),
  keySpec("sync", "debounce_ms", integerAtLeast(0), "wait for file changes to settle"),
  keySpec(
    "sync",
    "mass_delete_ratio",
    ratio,
    "a push deleting more than this share of a folder's synced files stops",
  ),
  keySpec(
    "sync",
    "mass_delete_min_files",
    integerAtLeast(1),
    "…when it deletes at least this many files (`--allow-mass-delete` overrides)",
  ),
  keySpec(
    "history",
    "keep_days",
    integerAtLeast(0),
    "days old versions of `[sync] namespace` are kept (0: none by age)",
  ),
  keySpec(
    "history",
    "keep_last",
    integerAtLeast(1),
    "versions kept per path of `[sync] namespace` at any age, newest first, heads included",
  ),
  keySpec(
    "history",
    "staggered",
    trueOrFalse,
    "also keep one version per hour for a day, per day for 30 days, per week after",
  ),
  keySpec(
    "history",
    "gc_interval_secs",
    integerAtLeast(0),
    "how often the daemon runs gc on `[sync] namespace` (0: never)",
  ),
  keySpec(
    "history",
    "gc_min_age_secs",
    integerAtLeast(0),
    "how long an unreferenced pack waits before gc deletes it (0: only if no other device writes)",
  ),
  keySpec(
    "mount",
    "cache_size",
    byteSize,
    "disk space for the chunk cache mounts and pulls share (`$XDG_CACHE_HOME/tcfs/chunks`), LRU-evicted",
  ),
  keySpec(
    "mount",
    "read_timeout_secs",
    integerAtLeast(1),
    "how long a read through a mount waits for the store before it fails with EIO",
  ),
  keySpec(
    "mount",
    "write_quiet_secs",
    integerAtLeast(1),
    "seconds without a write after which a file kept open through a mount is pushed",
  ),
  keySpec(
    "mount",
    "mounts",
    stringList,
    'what the daemon mounts: "/home/me/fleet" (the namespace) or "/home/me/papers=tcfs/default/papers"',
  ),
  keySpec("nats", "creds_file", absolutePath, "NATS .creds file"),
  keySpec("nats", "user", anyText, "NATS user name"),
  keySpec("nats", "password", anyText, "NATS password", true),
  keySpec("nats", "token", anyText, "NATS token", true),
  keySpec("nats", "tls_ca_file", absolutePath, "CA certificate for NATS TLS"),
  keySpec("nats", "domain", nonEmptyText, "JetStream domain (leaf-node set-ups)"),
  keySpec(
    "nats",
    "replicas",
    integerFromTo(1, 5),
    "copies of the state stream in a JetStream cluster (default: 3 on 3+ servers, else 1)",
  ),
  keySpec("daemon", "socket", absolutePath, "the daemon's control socket"),
  keySpec("daemon", "metrics_addr", hostPort, "where Prometheus metrics are served"),
  keySpec("daemon", "log_level", oneOf(LOG_LEVELS), "the log level"),
  keySpec("daemon", "log_format", oneOf(LOG_FORMATS), "the log format"),
  keySpec("secrets", "sops_file", absolutePath, "SOPS-encrypted credentials file"),
  keySpec("secrets", "sops_nix_dir", absolutePath, "directory of sops-nix secret files"),
  keySpec("secrets", "age_identity_file", absolutePath, "age identities for SOPS"),
  keySpec("secrets", "kdbx_path", absolutePath, "KeePassXC database with the S3 credentials"),
  keySpec("secrets", "kdbx_entry", nonEmptyText, "the KDBX entry path (group/.../title)"),
  keySpec("secrets", "kdbx_key_file", absolutePath, "key file that unlocks the KDBX database"),
];

/**
 * Finds a key's spec.
 *
 * @example
 * ```ts
 * findKeySpec("sync", "conflict_mode")?.field; // "conflictMode"
 * ```
 */
export function findKeySpec(section: string, key: string): KeySpec | undefined {
  return KEY_SPECS.find((spec) => spec.section === section && spec.key === key);
}

/** What the defaults depend on besides constants. */
export interface DefaultsContext {
  /** The per-device paths. */
  paths: TcfsPaths;
  /** From `defaultSocketPath`. */
  socket: string;
  /** From `hostName()`. */
  deviceName: string;
}

/**
 * The settings in effect when neither the file nor the environment sets anything.
 *
 * @example
 * ```ts
 * const paths = tcfsPaths({ HOME: "/tmp/devA" });
 * const settings = defaultSettings({ paths, socket: "/tmp/devA/tcfsd.sock", deviceName: "devA" });
 * settings.sync.conflictMode; // "interactive"
 * ```
 */
export function defaultSettings(context: DefaultsContext): ConfigSettings {
  return {
    storage: {
      endpoint: "",
      bucket: "tcfs",
      region: "us-east-1",
      s3Access: undefined,
      s3Secret: undefined,
    },
    sync: {
      namespace: "default",
      syncRoot: undefined,
      excludePatterns: ["*.swp", "*.swo", ".direnv"],
      deviceName: context.deviceName,
      conflictMode: "interactive",
      maxConflicts: 10,
      links: "keep",
      natsUrl: undefined,
      pollIntervalSecs: 30,
      debounceMs: 300,
      massDeleteRatio: 0.5,
      massDeleteMinFiles: 100,
    },
    history: {
      keepDays: 30,
      keepLast: 10,
      staggered: false,
      gcIntervalSecs: 24 * 60 * 60,
      gcMinAgeSecs: 60 * 60,
    },
    mount: { cacheSize: 10 * 2 ** 30, readTimeoutSecs: 10, mounts: [], writeQuietSecs: 30 },
    nats: {
      credsFile: undefined,
      user: undefined,
      password: undefined,
      token: undefined,
      tlsCaFile: undefined,
      domain: undefined,
      replicas: undefined,
    },
    daemon: {
      socket: context.socket,
      metricsAddr: "127.0.0.1:9100",
      logLevel: "info",
      logFormat: "text",
    },
    secrets: {
      sopsFile: context.paths.secretsFile,
      sopsNixDir: "/run/secrets/tcfs",
      ageIdentityFile: undefined,
      kdbxPath: undefined,
      kdbxEntry: "tcfs/s3",
      kdbxKeyFile: undefined,
    },
  };
}

/**
 * Reads one setting's current value.
 *
 * @example
 * ```ts
 * settingValue(config, findKeySpec("storage", "bucket")!); // "tcfs"
 * ```
 */
export function settingValue(settings: ConfigSettings, spec: KeySpec): unknown {
  return (settings[spec.section] as unknown as Record<string, unknown>)[spec.field];
}

/**
 * Sets one setting to a value already checked by {@linkcode decodeSetting}.
 *
 * @example
 * ```ts
 * assignSetting(settings, findKeySpec("sync", "namespace")!, "lab");
 * ```
 */
export function assignSetting(settings: ConfigSettings, spec: KeySpec, value: unknown): void {
  (settings[spec.section] as unknown as Record<string, unknown>)[spec.field] = value;
}

/** Where a raw setting came from, for error messages. */
export type SettingSource = { file: string } | { envVar: string };

/**
 * Checks a raw setting against its spec and returns the normalised value. Environment text is
 * first converted as the kind says (e.g. comma-separated lists).
 *
 * @param raw The TOML value, or for an environment source the variable's text.
 * @param home The home directory a leading `~` stands for.
 * @throws {TcfsError} (kind `config_invalid`, usage exit code) naming the file or variable, the
 *   key, the bad value (unless the key is secret) and the values accepted.
 *
 * @example
 * ```ts
 * decodeSetting(findKeySpec("sync", "sync_root")!, "~/sync", { file: "config.toml" }, "/home/ada");
 * // "/home/ada/sync"
 * ```
 */
export function decodeSetting(
  spec: KeySpec,
  raw: unknown,
  source: SettingSource,
  home: string,
): unknown {
  const isEnv = "envVar" in source;
  const checked = spec.kind.check(isEnv ? spec.kind.fromEnv(raw as string) : raw, home);
  if ("value" in checked) return checked.value;
  const name = `[${spec.section}] ${spec.key}`;
  const shown = spec.secret ? undefined : displayValue(raw);
  const [message, hint] = isEnv
    ? [
      `environment variable ${source.envVar}${shown === undefined ? "" : `=${shown}`} ` +
      `is not valid for ${name}: ${checked.problem}`,
      `set ${source.envVar} to ${spec.kind.accepted}, or unset it`,
    ]
    : [
      `config file ${source.file}: ${name}${shown === undefined ? "" : ` = ${shown}`} ` +
      `is not valid: ${checked.problem}`,
      `set ${name} to ${spec.kind.accepted} in ${source.file}`,
    ];
  return invalidConfig(message, hint);
}

/**
 * Throws the error every configuration problem uses.
 *
 * @example
 * ```ts
 * invalidConfig("config file x.toml: unknown section [storag]", "did you mean [storage]?");
 * ```
 */
export function invalidConfig(message: string, hint: string): never {
  throw new TcfsError(message, { hint, exitCode: ExitCode.usage, kind: "config_invalid" });
}

const MAX_SHOWN_LENGTH = 80;

function displayValue(raw: unknown): string {
  const shown = typeof raw === "string"
    ? JSON.stringify(redactUrlCredentials(raw))
    : JSON.stringify(raw) ?? String(raw);
  return shown.length > MAX_SHOWN_LENGTH ? `${shown.slice(0, MAX_SHOWN_LENGTH - 1)}…` : shown;
}
