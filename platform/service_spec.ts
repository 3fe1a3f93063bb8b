/**
 * What a service definition runs, whichever service manager runs it.
 *
 * @module
 */

/** What a service definition starts, for any service manager. */
export interface ServiceSpec {
  /** The absolute executable and its arguments, e.g. `["/usr/local/bin/tcfs", "daemon"]`. */
  program: string[];
  /** The env file the daemon loads (`~/.config/tcfs/env`). */
  envFile: string;
  /** Variables set for the daemon, e.g. `TCFS_CONFIG`. */
  environment: Record<string, string>;
  /** A system service (root, started at boot) rather than a user's. */
  system: boolean;
}
