/**
 * The per-device files of tcfs, as the platform resolves them (platform/tcfs_paths.ts) from the
 * XDG base directories: core is told them and never asks the OS itself.
 *
 * @module
 */

/** The per-device files and directories of tcfs. All paths are absolute. */
export interface TcfsPaths {
  /** The config file: `$TCFS_CONFIG`, else `<configHome>/tcfs/config.toml`. */
  configFile: string;
  /** The systemd-style env file read at start-up: `<configHome>/tcfs/env`. */
  envFile: string;
  /** The SOPS-encrypted credentials: `<configHome>/tcfs/secrets.yaml`. */
  secretsFile: string;
  /** The age identities that decrypt SOPS files: `<configHome>/sops/age/keys.txt`. */
  ageKeyFile: string;
  /** The embedded default store, used when no endpoint is configured: `<dataHome>/tcfs/store`. */
  storeDir: string;
  /** The local state database: `<stateHome>/tcfs/state.db`. */
  stateDb: string;
  /** This device's identity: `<configHome>/tcfs/device.json`. */
  deviceFile: string;
  /**
   * Where the fleet's first device leaves the printed recovery key, when no passphrase was
   * given: `<configHome>/tcfs/recovery-key.txt` (the user moves it offline).
   */
  recoveryKeyFile: string;
  /** Disposable caches: `<cacheHome>/tcfs`. */
  cacheDir: string;
}
