/**
 * The credential chain from the fleet guide: environment, then the SOPS file
 * and sops-nix directory, then KeePassXC, then plaintext `config.toml` last.
 * The first source that supplies an S3 key pair wins.
 *
 * The S3 endpoint and NATS URL travel with the key pair: they are taken from
 * the winning source when it has them (they name the server those keys belong
 * to), otherwise from `TCFS_S3_ENDPOINT`/`TCFS_NATS_URL`, otherwise they stay
 * unset and the caller uses config.toml's non-secret settings.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { type ConfigFileSecrets, readConfigFileCredentials } from "./config_file_source.ts";
import type { CredentialValues, S3Credentials, SourceReading } from "./credential_values.ts";
import {
  ENV_KEY_PAIRS,
  ENV_SERVICE_URLS,
  envServiceUrls,
  readEnvCredentials,
} from "./env_source.ts";

/** Everything the chain reads from; the caller resolves defaults and config. */
export interface CredentialChainInput {
  /** The environment (real environment over `~/.config/tcfs/env`, merged by the caller). */
  env: Record<string, string | undefined>;
  /** The SOPS file, usually `~/.config/tcfs/secrets.yaml`. */
  sopsFile: string;
  /** The sops-nix secrets directory, usually `/run/secrets/tcfs`. */
  sopsNixDir: string;
  /** The KeePassXC database; `TCFS_KDBX_PATH` in `env` takes precedence. */
  kdbxPath?: string;
  /** The entry in it, `group/sub/Title` (`tcfs/s3` by default). */
  kdbxEntry: string;
  /** A KeePass key file for the database. */
  kdbxKeyFile?: string;
  /** `config.toml`, as read by the config module. */
  configFile: ConfigFileSecrets;
  /** Whether the user may be asked for the KDBX password: `Deno.stdin.isTerminal()` in the CLI, false in the daemon. */
  interactive: boolean;
  /** Asks for the KDBX password; defaults to a hidden prompt on the terminal. */
  promptPassword?: (message: string) => Promise<string>;
}

/** What happened to one source of the chain. */
export interface CredentialAttempt {
  /** The source, e.g. `env:TCFS_S3_ACCESS`, `sops:/path`, `kdbx:/path#tcfs/s3`. */
  source: string;
  outcome: "used" | "skipped" | "failed";
  /** Why; never a secret value. */
  reason: string;
}

/** The result of {@linkcode resolveCredentials}. Printing it never shows a secret. */
export interface ResolvedCredentials {
  s3?: S3Credentials;
  s3Endpoint?: string;
  natsUrl?: string;
  /** The source of the key pair, or `none`. */
  source: string;
  /** The source of `s3Endpoint`, when set. */
  s3EndpointSource?: string;
  /** The source of `natsUrl`, when set. */
  natsUrlSource?: string;
  /**
   * Every consulted source that names an S3 endpoint, used or not (a SOPS file may hold one
   * without a key pair): with any of these, the embedded store is never the right one.
   */
  endpointSources: string[];
  loadedAt: Date;
  /** Every source in chain order, including those not consulted. */
  tried: CredentialAttempt[];
  /** Things the user should fix even though credentials resolved. */
  warnings: string[];
}

/** A source of the chain: its name in status output, and how to read it. */
interface ChainSource {
  name: string;
  read: () => Promise<SourceReading>;
}

/**
 * Walks the chain and returns the first S3 key pair found, with a record of
 * every source. A source that exists but fails (bad MAC, wrong password, a
 * world-readable config.toml) is recorded as failed and the chain goes on; it
 * never throws for a source's problem. Use {@linkcode requireS3Credentials}
 * where credentials are mandatory: its error carries those failures.
 *
 * @example
 * ```ts
 * const home = Deno.env.get("HOME")!;
 * const resolved = await resolveCredentials({
 *   env: Deno.env.toObject(),
 *   sopsFile: `${home}/.config/tcfs/secrets.yaml`,
 *   sopsNixDir: "/run/secrets/tcfs",
 *   kdbxEntry: "tcfs/s3",
 *   configFile: { path: `${home}/.config/tcfs/config.toml`, exists: false },
 *   interactive: Deno.stdin.isTerminal(),
 * });
 * console.log(describeCredentialStatus(resolved));
 * ```
 */
export async function resolveCredentials(
  input: CredentialChainInput,
): Promise<ResolvedCredentials> {
  const loadedAt = new Date();
  const tried: CredentialAttempt[] = [];
  const warnings: string[] = [];
  const endpointSources: string[] = [];
  let winner: { name: string; values: CredentialValues & { s3: S3Credentials } } | undefined;
  for (const source of chainSources(input)) {
    if (winner) {
      tried.push({
        source: source.name,
        outcome: "skipped",
        reason: `not consulted: ${winner.name} comes first`,
      });
      continue;
    }
    let reading: SourceReading;
    try {
      reading = await source.read();
    } catch (err) {
      tried.push({ source: source.name, outcome: "failed", reason: failureReason(err) });
      continue;
    }
    if (reading.found && reading.values.s3Endpoint) endpointSources.push(source.name);
    if (!reading.found) {
      tried.push({ source: source.name, outcome: "skipped", reason: reading.reason });
    } else if (reading.values.s3 === undefined) {
      tried.push({
        source: source.name,
        outcome: "skipped",
        reason: "holds no S3 key pair (an endpoint or NATS URL alone is not used)",
      });
    } else {
      winner = { name: source.name, values: { ...reading.values, s3: reading.values.s3 } };
      tried.push({ source: source.name, outcome: "used", reason: "supplied the S3 key pair" });
    }
  }
  const resolved: ResolvedCredentials = {
    source: winner?.name ?? "none",
    endpointSources,
    loadedAt,
    tried,
    warnings,
  };
  if (winner) resolved.s3 = winner.values.s3;
  const fromEnv = envServiceUrls(input.env);
  if (winner?.values.s3Endpoint) {
    resolved.s3Endpoint = winner.values.s3Endpoint;
    resolved.s3EndpointSource = winner.name;
  } else if (fromEnv.s3Endpoint) {
    resolved.s3Endpoint = fromEnv.s3Endpoint;
    resolved.s3EndpointSource = `env:${ENV_SERVICE_URLS.s3Endpoint}`;
    endpointSources.push(resolved.s3EndpointSource);
  }
  if (winner?.values.natsUrl) {
    resolved.natsUrl = winner.values.natsUrl;
    resolved.natsUrlSource = winner.name;
  } else if (fromEnv.natsUrl) {
    resolved.natsUrl = fromEnv.natsUrl;
    resolved.natsUrlSource = `env:${ENV_SERVICE_URLS.natsUrl}`;
  }
  if (winner) {
    for (const attempt of tried.filter((attempt) => attempt.outcome === "failed")) {
      warnings.push(`${attempt.source} failed (${attempt.reason}); used ${winner.name} instead`);
    }
  }
  const config = input.configFile;
  if (resolved.source === configSourceName(config)) {
    warnings.push(
      `S3 keys come from plaintext ${config.path}, which is not recommended: move them to the ` +
        `SOPS file ${input.sopsFile}, a KDBX entry or the environment`,
    );
  } else if (config.exists && (config.s3Access || config.s3Secret)) {
    warnings.push(
      `${config.path} holds plaintext [storage] s3_access/s3_secret that are not used; remove them`,
    );
  }
  return resolved;
}

/**
 * The S3 key pair, or a `TcfsError` explaining why there is none. When sources
 * failed, their reasons are the message (kind `credentials-failed`); when none
 * was configured, it says where credentials can go (kind `credentials-missing`).
 *
 * @example
 * ```ts
 * const s3 = requireS3Credentials(await resolveCredentials(input));
 * new S3Client({ credentials: { accessKeyId: s3.accessKeyId.reveal(), secretAccessKey: s3.secretAccessKey.reveal() } });
 * ```
 */
export function requireS3Credentials(resolved: ResolvedCredentials): S3Credentials {
  if (resolved.s3) return resolved.s3;
  const failed = resolved.tried.filter((attempt) => attempt.outcome === "failed");
  if (failed.length > 0) {
    throw new TcfsError(
      `no S3 credentials: ${
        failed.map((attempt) => `${attempt.source}: ${attempt.reason}`).join("; ")
      }`,
      {
        kind: "credentials-failed",
        hint: "fix the source above; `tcfs creds status` lists each one",
      },
    );
  }
  throw new TcfsError(
    `no S3 credentials found (${
      resolved.tried.map((attempt) => `${attempt.source}: ${attempt.reason}`).join("; ")
    })`,
    {
      kind: "credentials-missing",
      hint: "set TCFS_S3_ACCESS and TCFS_S3_SECRET, or create the SOPS file " +
        "(see `tcfs creds status` for every place tcfs looks)",
    },
  );
}

/** {@linkcode ResolvedCredentials} without values: safe for `tcfs creds status --json`. */
export interface CredentialStatus {
  source: string;
  loadedAt: string;
  s3: "set" | "not set";
  s3EndpointSource?: string;
  natsUrlSource?: string;
  tried: CredentialAttempt[];
  warnings: string[];
}

/**
 * The status of resolved credentials as data, naming sources but never values.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(credentialStatus(resolved)));
 * ```
 */
export function credentialStatus(resolved: ResolvedCredentials): CredentialStatus {
  return {
    source: resolved.source,
    loadedAt: resolved.loadedAt.toISOString(),
    s3: resolved.s3 ? "set" : "not set",
    ...(resolved.s3EndpointSource && { s3EndpointSource: resolved.s3EndpointSource }),
    ...(resolved.natsUrlSource && { natsUrlSource: resolved.natsUrlSource }),
    tried: resolved.tried,
    warnings: resolved.warnings,
  };
}

/**
 * `tcfs creds status` text: the source used, when, where the endpoint and NATS
 * URL came from, every source with its outcome and reason, and warnings.
 * Values never appear.
 *
 * @example
 * ```ts
 * console.log(describeCredentialStatus(resolved));
 * // credentials: sops:/home/u/.config/tcfs/secrets.yaml (loaded 2026-11-26T09:00:00.000Z)
 * // ...
 * ```
 */
export function describeCredentialStatus(resolved: ResolvedCredentials): string {
  const status = credentialStatus(resolved);
  const width = Math.max(...status.tried.map((attempt) => attempt.source.length));
  const lines = [
    `credentials: ${status.source} (loaded ${status.loadedAt})`,
    `  s3 endpoint: ${status.s3EndpointSource ?? "not set here (config.toml applies)"}`,
    `  nats url:    ${status.natsUrlSource ?? "not set here (config.toml applies)"}`,
    "sources, in order:",
    ...status.tried.map((attempt) =>
      `  ${attempt.outcome.padEnd(7)} ${attempt.source.padEnd(width)}  ${attempt.reason}`
    ),
  ];
  if (status.warnings.length > 0) {
    lines.push("warnings:", ...status.warnings.map((warning) => `  ${warning}`));
  }
  return lines.join("\n");
}

function chainSources(input: CredentialChainInput): ChainSource[] {
  const kdbxPath = input.env.TCFS_KDBX_PATH || input.kdbxPath;
  return [
    ...ENV_KEY_PAIRS.map((pair) => ({
      name: `env:${pair.access}`,
      read: () => Promise.resolve(readEnvCredentials(input.env, pair)),
    })),
    {
      name: `sops:${input.sopsFile}`,
      // The SOPS and KDBX readers load their libraries only when a chain gets that far.
      read: async () =>
        (await import("./sops_file_source.ts")).readSopsFileCredentials(input.sopsFile, input.env),
    },
    {
      name: `sops-nix:${input.sopsNixDir}`,
      read: async () =>
        (await import("./sops_nix_source.ts")).readSopsNixCredentials(input.sopsNixDir),
    },
    {
      name: kdbxPath ? `kdbx:${kdbxPath}#${input.kdbxEntry}` : "kdbx",
      read: () =>
        kdbxPath
          ? import("./kdbx_source.ts").then(({ readKdbxCredentials }) =>
            readKdbxCredentials({
              path: kdbxPath,
              entryPath: input.kdbxEntry,
              keyFile: input.kdbxKeyFile,
              env: input.env,
              interactive: input.interactive,
              promptPassword: input.promptPassword,
            })
          )
          : Promise.resolve({
            found: false,
            reason: "no database configured (set TCFS_KDBX_PATH or the KDBX path in config.toml)",
          }),
    },
    {
      name: configSourceName(input.configFile),
      read: () => Promise.resolve(readConfigFileCredentials(input.configFile)),
    },
  ];
}

function configSourceName(config: ConfigFileSecrets): string {
  return `config:${config.path}`;
}

function failureReason(err: unknown): string {
  if (err instanceof TcfsError) return err.hint ? `${err.message} (fix: ${err.hint})` : err.message;
  return err instanceof Error ? err.message : String(err);
}
