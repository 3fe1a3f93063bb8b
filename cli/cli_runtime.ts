/**
 * What every CLI command starts from: the merged environment (env file under
 * the real one), the config, this device, credentials, the store and the
 * state db. Opened lazily so `tcfs config show` needs no store.
 *
 * @module
 */

import type { TcfsConfig } from "../core/config/config_schema.ts";
import { type DeviceIdentity, loadOrCreateDeviceIdentity } from "../core/device/device_identity.ts";
import type { ObjectStore } from "../core/store/object_store.ts";
import { StateDb } from "../core/state/state_db.ts";
import { pullChunkCache } from "../core/cache/device_chunk_cache.ts";
import type { SyncContext } from "../core/sync/sync_context.ts";
import { revokedDevicesKept } from "../core/device/device_registry.ts";
import { namespaceKeys } from "../core/crypto/device_keys.ts";
import type { ResolvedCredentials } from "../core/credentials/credential_chain.ts";
import { loadDeviceSetup, resolveConfiguredCredentials } from "../core/runtime/device_setup.ts";
import { readDeviceEnvironment } from "../platform/device_environment.ts";

import { openRefreshingStore } from "../core/runtime/credential_reload.ts";

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
  const setup = await loadDeviceSetup(await readDeviceEnvironment());
  const { env, config } = setup;
  let device: Promise<DeviceIdentity> | undefined;
  let credentials: Promise<ResolvedCredentials> | undefined;
  let store: Promise<ObjectStore> | undefined;
  let state: StateDb | undefined;

  const runtime: CliRuntime = {
    env,
    config,
    device: () =>
      device ??= loadOrCreateDeviceIdentity(config.paths.deviceFile, config.sync.deviceName),
    credentials: () => credentials ??= resolveConfiguredCredentials(setup, Deno.stdin.isTerminal()),
    store: () =>
      store ??= runtime.credentials().then((resolved) =>
        openRefreshingStore(setup, resolved, {
          interactive: Deno.stdin.isTerminal(),
          readEnv: async () => (await readDeviceEnvironment()).env,
          // Later questions about the credentials get the ones the store now uses.
          onReload: (fresh) => credentials = Promise.resolve(fresh),
        })
      ),
    state: async () => state ??= await StateDb.open(config.paths.stateDb),
    syncContext: async (namespace) => {
      const me = await runtime.device();
      const opened = await runtime.store();
      const state = await runtime.state();
      const ns = namespace ?? config.sync.namespace;
      return {
        store: opened,
        state,
        device: { id: me.id, name: me.name },
        keys: await namespaceKeys(opened, state, ns, {
          id: me.id,
          name: me.name,
          ageKeyFile: config.paths.ageKeyFile,
        }),
        // Revoked devices' versions are ignored: one listing of the revocation markers.
        revoked: await revokedDevicesKept(opened, state),
        bucket: config.storage.bucket,
        namespace: ns,
        conflictMode: config.sync.conflictMode,
        maxConflicts: config.sync.maxConflicts,
        links: config.sync.links,
        chunkCache: () =>
          pullChunkCache(config.paths.cacheDir, config.mount.cacheSize, config.mount.mounts),
        // What the engine warns of (a git index it left as it was, an unreadable segment) is
        // for the user at the terminal; the rest of its notes are the daemon log's.
        log: (level, message) => {
          if (level === "warning" || level === "error") console.error(`tcfs: ${level}: ${message}`);
        },
      };
    },
    close: () => {
      state?.close();
      store?.then((s) => s.close(), () => {});
    },
  };
  return runtime;
}
