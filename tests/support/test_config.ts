/**
 * Loads a config the way the CLI does, for tests: platform facts from the given environment
 * (no env file), then core's loadConfig.
 *
 * @module
 */

import { loadConfig } from "../../core/config/load_config.ts";
import type { TcfsConfig } from "../../core/config/config_schema.ts";
import { devicePlatform } from "../../platform/device_environment.ts";

/**
 * `loadConfig` for an environment, with an optional config path and system/user socket choice.
 *
 * @example
 * ```ts
 * const config = await loadTestConfig({ env: { HOME: "/tmp/devA" }, system: false });
 * ```
 */
export function loadTestConfig(
  options: { env: Record<string, string | undefined>; path?: string; system?: boolean },
): Promise<TcfsConfig> {
  return loadConfig({
    env: options.env,
    platform: devicePlatform(options.env, { configPath: options.path, system: options.system }),
  });
}
