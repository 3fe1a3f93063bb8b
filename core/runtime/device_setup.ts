/**
 * What the CLI and the daemon both load before they do anything: the environment (the env file
 * under the real one), the config, the credentials from the configured chain, and the store and
 * NATS server those name. One definition, so `tcfs push` and `tcfs daemon` always agree.
 *
 * @module
 */

import { isStoreUnreachable } from "../store/store_unreachable.ts";
import { TcfsError } from "../errors.ts";
import { loadConfig } from "../config/load_config.ts";
import type { TcfsConfig } from "../config/config_schema.ts";
import type { DeviceEnvironment } from "../config/device_environment.ts";
import { openStore } from "../store/open_store.ts";
import type { ObjectStore } from "../store/object_store.ts";
import {
  requireS3Credentials,
  resolveCredentials,
  type ResolvedCredentials,
} from "../credentials/credential_chain.ts";

/** The merged environment and the configuration it selects. */
export interface DeviceSetup {
  /** The real environment over the env file `~/.config/tcfs/env`. */
  env: Record<string, string | undefined>;
  config: TcfsConfig;
}

/**
 * Loads the config for the environment the platform read (`readDeviceEnvironment`: the env file
 * under the real environment, and the per-device paths).
 *
 * @throws {TcfsError} for an invalid config.
 *
 * @example
 * ```ts
 * const { env, config } = await loadDeviceSetup(await readDeviceEnvironment());
 * config.sync.syncRoot; // "/home/ada/Sync"
 * ```
 */
export async function loadDeviceSetup(environment: DeviceEnvironment): Promise<DeviceSetup> {
  return { env: environment.env, config: await loadConfig(environment) };
}

/**
 * Walks the credential chain with the sources the config names.
 *
 * @param interactive Whether a KDBX password may be asked on the terminal (never in the daemon).
 *
 * @example
 * ```ts
 * const credentials = await resolveConfiguredCredentials(setup, Deno.stdin.isTerminal());
 * credentials.source; // "env:TCFS_S3_ACCESS"
 * ```
 */
export function resolveConfiguredCredentials(
  setup: DeviceSetup,
  interactive: boolean,
): Promise<ResolvedCredentials> {
  const { env, config } = setup;
  return resolveCredentials({
    env,
    sopsFile: config.secrets.sopsFile,
    sopsNixDir: config.secrets.sopsNixDir,
    kdbxPath: config.secrets.kdbxPath,
    kdbxEntry: config.secrets.kdbxEntry,
    kdbxKeyFile: config.secrets.kdbxKeyFile,
    configFile: {
      ...config.file,
      s3Access: config.storage.s3Access,
      s3Secret: config.storage.s3Secret,
    },
    interactive,
  });
}

/**
 * The storage endpoint in effect: the config's (file or `TCFS_S3_ENDPOINT`), else the one that
 * came with the credentials (a SOPS file or KDBX entry may carry it), else `""`: the embedded
 * store.
 *
 * @example
 * ```ts
 * configuredEndpoint(config, credentials); // "http://dees-appu-bearts:8333"
 * ```
 */
export function configuredEndpoint(config: TcfsConfig, credentials: ResolvedCredentials): string {
  return config.storage.endpoint || credentials.s3Endpoint || "";
}

/**
 * The NATS server in effect, by the same rule as {@linkcode configuredEndpoint}; `undefined`
 * means no NATS: the daemon polls the store.
 *
 * @example
 * ```ts
 * configuredNatsUrl(config, credentials); // "nats://yoga.local:4222"
 * ```
 */
export function configuredNatsUrl(
  config: TcfsConfig,
  credentials: ResolvedCredentials,
): string | undefined {
  return config.sync.natsUrl || credentials.natsUrl || undefined;
}

/**
 * Why the embedded store must not stand in for the configured one, or `undefined` when it may:
 * a credential source that failed may hold the endpoint (the seed keeps it inside the SOPS
 * file), and a source that names an endpoint it has no keys for still names the remote. Either
 * way the local store would quietly take the fleet's files.
 *
 * @example
 * ```ts
 * const refusal = embeddedStoreRefusal(config, credentials);
 * if (refusal) throw refusal;
 * ```
 */
export function embeddedStoreRefusal(
  config: TcfsConfig,
  credentials: ResolvedCredentials,
): TcfsError | undefined {
  if (configuredEndpoint(config, credentials) !== "") return undefined;
  const onPurpose = `or set [storage] endpoint = "file://${config.paths.storeDir}" in ` +
    `${config.file.path} to use this device's local store on purpose`;
  const failed = credentials.tried.filter((attempt) => attempt.outcome === "failed");
  if (failed.length > 0) {
    return new TcfsError(
      "a credential source failed, so the storage endpoint it may hold is unknown, and tcfs " +
        `will not use the local store ${config.paths.storeDir} in its place: ${
          failed.map((attempt) => `${attempt.source}: ${attempt.reason}`).join("; ")
        }`,
      {
        kind: "credentials-failed",
        hint: `fix the source above (\`tcfs creds status\` lists each one), ${onPurpose}`,
      },
    );
  }
  if (credentials.endpointSources.length > 0) {
    return new TcfsError(
      `${
        credentials.endpointSources.join(", ")
      } names an S3 endpoint but no S3 key pair to go with it, so it is not used: tcfs will not ` +
        `use the local store ${config.paths.storeDir} in its place`,
      {
        kind: "credentials-incomplete",
        hint: `add s3_access and s3_secret beside s3_endpoint there, ${onPurpose}`,
      },
    );
  }
  return undefined;
}

/**
 * The configured store, without a request yet (the daemon starts even while the store is
 * unreachable).
 *
 * @throws {TcfsError} when the endpoint is not supported, an S3 endpoint has no credentials, or
 * the embedded store would stand in for a remote (see {@linkcode embeddedStoreRefusal}).
 *
 * @example
 * ```ts
 * const store = configuredStore(config, credentials);
 * ```
 */
export function configuredStore(config: TcfsConfig, credentials: ResolvedCredentials): ObjectStore {
  const refusal = embeddedStoreRefusal(config, credentials);
  if (refusal) throw refusal;
  const endpoint = configuredEndpoint(config, credentials);
  const s3 = /^https?:/.test(endpoint) ? requireS3Credentials(credentials) : undefined;
  return openStore({
    endpoint,
    bucket: config.storage.bucket,
    region: config.storage.region,
    defaultStoreDir: config.paths.storeDir,
    credentials: s3 && {
      accessKeyId: s3.accessKeyId.reveal(),
      secretAccessKey: s3.secretAccessKey.reveal(),
    },
  });
}

/**
 * Opens the configured store and makes sure its bucket or directory exists (unless the store
 * cannot be reached: then the first call that needs it says so).
 *
 * @throws {TcfsError} when an S3 endpoint has no credentials, or the bucket cannot be made.
 *
 * @example
 * ```ts
 * const store = await openConfiguredStore(config, await resolveConfiguredCredentials(setup, false));
 * ```
 */
export async function openConfiguredStore(
  config: TcfsConfig,
  credentials: ResolvedCredentials,
): Promise<ObjectStore> {
  const store = configuredStore(config, credentials);
  try {
    await store.ensureReady();
  } catch (err) {
    // Offline, the store is handed out as it is: what needs it fails with the same error, and
    // what can do without it (a mount serving its cache) goes on.
    if (isStoreUnreachable(err)) return store;
    store.close();
    throw err;
  }
  return store;
}
