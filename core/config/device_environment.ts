/**
 * What the platform tells tcfs about this device before any config is read
 * (platform/device_environment.ts reads it): the environment, the per-device paths, the host
 * name and the default control socket.
 *
 * @module
 */

import type { TcfsPaths } from "./device_paths.ts";

/** Facts about this device that config defaults are derived from. */
export interface DevicePlatform {
  home: string;
  paths: TcfsPaths;
  hostName: string;
  /** The default control socket (system daemon, macOS or Linux user daemon). */
  socketPath: string;
}

/** The environment tcfs runs with, and the platform facts it implies. */
export interface DeviceEnvironment {
  /** The real environment over the env file. */
  env: Record<string, string | undefined>;
  platform: DevicePlatform;
}
