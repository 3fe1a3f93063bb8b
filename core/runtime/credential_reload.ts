/**
 * Picking up rotated credentials while running, for the CLI and the daemon alike: a store that
 * reloads the credential chain when S3 refuses a request, and a watch on the files the chain
 * reads (the SOPS file, the KeePassXC database, the env file).
 *
 * @module
 */

import type { ResolvedCredentials } from "../credentials/credential_chain.ts";
import { type CredentialWatch, watchCredentialFiles } from "../credentials/credential_watch.ts";
import {
  type CredentialRefreshInfo,
  withCredentialRefresh,
} from "../store/credential_refreshing_store.ts";
import type { ObjectStore } from "../store/object_store.ts";
import {
  type DeviceSetup,
  openConfiguredStore,
  resolveConfiguredCredentials,
} from "./device_setup.ts";

/**
 * The files whose change means new credentials: the SOPS file, the KDBX database
 * (`TCFS_KDBX_PATH` or `[secrets] kdbx_path`) and the env file `~/.config/tcfs/env`.
 *
 * @example
 * ```ts
 * credentialFiles(await loadDeviceSetup(await readDeviceEnvironment()));
 * // ["/home/ada/.config/tcfs/secrets.yaml", "/home/ada/.config/tcfs/env"]
 * ```
 */
export function credentialFiles(setup: DeviceSetup): string[] {
  const { config, env } = setup;
  const kdbx = env.TCFS_KDBX_PATH || config.secrets.kdbxPath;
  return [config.secrets.sopsFile, ...(kdbx ? [kdbx] : []), config.paths.envFile];
}

/** What {@linkcode withConfiguredCredentialRefresh} needs. */
export interface ConfiguredRefreshOptions {
  /** The setup the store was opened with; its config stays, its environment is read again. */
  setup: DeviceSetup;
  /** Whether a KDBX password may be asked on the terminal (never in the daemon). */
  interactive: boolean;
  /** Reads the environment again (the env file may hold rotated keys): `readDeviceEnvironment`. */
  readEnv: () => Promise<Record<string, string | undefined>>;
  /** Opens a store like the one being wrapped, with other credentials. */
  open: (credentials: ResolvedCredentials) => ObjectStore | Promise<ObjectStore>;
  /** Told the freshly loaded credentials once a store was opened with them. */
  onReload?: (credentials: ResolvedCredentials) => void;
  /** Told about every reopen attempt, for logs and metrics. */
  onRefresh?: (info: CredentialRefreshInfo) => void;
}

/**
 * Wraps `store` so that a request refused with 403 re-reads the env file, walks the credential
 * chain again, reopens the store through `open` and is retried once (see
 * `withCredentialRefresh`). The endpoint and bucket stay those of `setup.config`.
 *
 * @example
 * ```ts
 * const store = withConfiguredCredentialRefresh(configuredStore(config, credentials), {
 *   setup,
 *   interactive: false,
 *   open: (fresh) => configuredStore(config, fresh),
 *   onReload: (fresh) => log.info(`S3 refused the keys; now using ${fresh.source}`),
 * });
 * ```
 */
export function withConfiguredCredentialRefresh(
  store: ObjectStore,
  options: ConfiguredRefreshOptions,
): ObjectStore {
  const { config } = options.setup;
  return withCredentialRefresh(store, {
    reopen: async () => {
      const env = await options.readEnv();
      const credentials = await resolveConfiguredCredentials({ env, config }, options.interactive);
      const reopened = await options.open(credentials);
      options.onReload?.(credentials);
      return reopened;
    },
    onRefresh: options.onRefresh,
  });
}

/**
 * The CLI's store: opened and made ready like `openConfiguredStore`, and refreshed on a 403
 * as {@linkcode withConfiguredCredentialRefresh} does.
 *
 * @example
 * ```ts
 * const store = await openRefreshingStore(setup, await resolveConfiguredCredentials(setup, true), {
 *   interactive: true,
 * });
 * ```
 */
export async function openRefreshingStore(
  setup: DeviceSetup,
  credentials: ResolvedCredentials,
  options: Pick<ConfiguredRefreshOptions, "interactive" | "readEnv" | "onReload">,
): Promise<ObjectStore> {
  const open = (fresh: ResolvedCredentials) => openConfiguredStore(setup.config, fresh);
  return withConfiguredCredentialRefresh(await open(credentials), { setup, open, ...options });
}

/** What {@linkcode watchConfiguredCredentials} needs. */
export interface ConfiguredWatchOptions {
  /** The setup in effect now; asked again after each change, as a reload may move the files. */
  setup: () => DeviceSetup;
  /** Reloads; called once changes settle, never twice at a time. */
  onChange: (changed: string[]) => unknown;
  /** Told when `onChange` fails or a directory cannot be watched. */
  onError?: (error: unknown) => void;
  /** Default 500 ms. */
  debounceMs?: number;
}

/** A running watch; see {@linkcode watchConfiguredCredentials}. */
export interface ConfiguredCredentialWatch extends Disposable {
  /** The files watched now. */
  readonly files: readonly string[];
  /** Watches the files of `setup()` now, if they differ (call it after a reload). */
  refresh(): void;
  close(): void;
}

/**
 * Watches {@linkcode credentialFiles} and calls `onChange` when they change (debounced), so
 * a daemon reloads its credentials on its own after a rotation or a deploy. After each
 * `onChange` the files are derived again from `setup()`.
 *
 * @example
 * ```ts
 * using watch = watchConfiguredCredentials({
 *   setup: () => live.setup,
 *   onChange: (changed) => reload(`${changed.join(", ")} changed`),
 *   onError: (err) => log("warning", `credential watch: ${describeError(err)}`),
 * });
 * ```
 */
export function watchConfiguredCredentials(
  options: ConfiguredWatchOptions,
): ConfiguredCredentialWatch {
  let files: string[] = [];
  let watch: CredentialWatch | undefined;
  const refresh = () => {
    const next = credentialFiles(options.setup());
    if (watch && next.join("\0") === files.join("\0")) return;
    watch?.close();
    files = next;
    watch = watchCredentialFiles({
      files,
      debounceMs: options.debounceMs,
      onError: options.onError,
      onChange: async (changed) => {
        await options.onChange(changed);
        refresh();
      },
    });
  };
  refresh();
  const close = () => watch?.close();
  return {
    get files() {
      return files;
    },
    refresh,
    close,
    [Symbol.dispose]: close,
  };
}
