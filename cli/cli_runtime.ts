/**
 * What every CLI command starts from: the merged environment (env file under
 * the real one), the config, this device, credentials, the store and the
 * state db. Opened lazily so `tcfs config show` needs no store.
 *
 * @module
 */

import { loadConfig } from "../core/config/load_config.ts";
import type { TcfsConfig } from "../core/config/config_schema.ts";
import { mergeEnv, readEnvFile } from "../platform/env_file.ts";
import { tcfsPaths } from "../platform/tcfs_paths.ts";
import { type DeviceIdentity, loadOrCreateDeviceIdentity } from "../core/device/device_identity.ts";
import { openStore } from "../core/store/open_store.ts";
import type { ObjectStore } from "../core/store/object_store.ts";
import { StateDb } from "../core/state/state_db.ts";
import type { SyncContext } from "../core/sync/sync_context.ts";
import {
  requireS3Credentials,
  resolveCredentials,
  type ResolvedCredentials,
} from "../core/credentials/credential_chain.ts";

/** Resources a command may use; close() releases whatever was opened. */
export interface CliRuntime {
  env: Record<string, string | undefined>;
  config: TcfsConfig;
  device(): Promise<DeviceIdentity>;
  credentials(): Promise<ResolvedCredentials>;
  store(): Promise<ObjectStore>;
  state(): Promise<StateDb>;
  /** A sync context for `namespace` (the configured one by default). */
  syncContext(namespace?: string): Promise<SyncContext>;
  close(): void;
}

/**
 * Loads the environment and config. Nothing else is touched until asked for.
 *
 * @example
 * ```ts
 * const runtime = await openCliRuntime();
 * try { await push(await runtime.syncContext(), request); } finally { runtime.close(); }
 * ```
 */
export async function openCliRuntime(): Promise<CliRuntime> {
  const realEnv = Deno.env.toObject();
  const env = mergeEnv(await readEnvFile(tcfsPaths(realEnv).envFile), realEnv);
  const config = await loadConfig({ env });
  let device: Promise<DeviceIdentity> | undefined;
  let credentials: Promise<ResolvedCredentials> | undefined;
  let store: Promise<ObjectStore> | undefined;
  let state: StateDb | undefined;

  const runtime: CliRuntime = {
    env,
    config,
    device: () =>
      device ??= loadOrCreateDeviceIdentity(config.paths.deviceFile, config.sync.deviceName),
    credentials: () =>
      credentials ??= resolveCredentials({
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
        interactive: Deno.stdin.isTerminal(),
      }),
    store: () =>
      store ??= (async () => {
        const resolved = await runtime.credentials();
        // A SOPS file or KDBX entry may carry the endpoint along with the keys.
        const endpoint = config.storage.endpoint || resolved.s3Endpoint || "";
        const s3 = /^https?:/.test(endpoint) ? requireS3Credentials(resolved) : undefined;
        const opened = openStore({
          endpoint,
          bucket: config.storage.bucket,
          region: config.storage.region,
          defaultStoreDir: config.paths.storeDir,
          credentials: s3 && {
            accessKeyId: s3.accessKeyId.reveal(),
            secretAccessKey: s3.secretAccessKey.reveal(),
          },
        });
        await opened.ensureReady();
        return opened;
      })(),
    state: async () => state ??= await StateDb.open(config.paths.stateDb),
    syncContext: async (namespace) => {
      const me = await runtime.device();
      return {
        store: await runtime.store(),
        state: await runtime.state(),
        device: { id: me.id, name: me.name },
        bucket: config.storage.bucket,
        namespace: namespace ?? config.sync.namespace,
        conflictMode: config.sync.conflictMode,
      };
    },
    close: () => {
      state?.close();
      store?.then((s) => s.close(), () => {});
    },
  };
  return runtime;
}
