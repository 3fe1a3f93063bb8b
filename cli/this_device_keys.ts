/**
 * This device's key status as the CLI reports it (`tcfs creds status`, `tcfs doctor`,
 * `tcfs device list`): nothing is created, a device without an identity has no status.
 *
 * @module
 */

import type { CliRuntime } from "./cli_runtime.ts";
import { readDeviceIdentity } from "../core/device/device_identity.ts";
import { type DeviceKeyStatus, deviceKeyStatus } from "../core/crypto/device_key_status.ts";

/**
 * The key status of this device for the configured namespace, or undefined when it has no
 * device identity yet.
 *
 * @example
 * ```ts
 * const keys = await thisDeviceKeys(runtime);
 * keys?.epoch; // 2
 * ```
 */
export async function thisDeviceKeys(runtime: CliRuntime): Promise<DeviceKeyStatus | undefined> {
  const me = await readDeviceIdentity(runtime.config.paths.deviceFile);
  if (!me) return undefined;
  return await deviceKeyStatus(
    await runtime.store(),
    await runtime.state(),
    { id: me.id, name: me.name, ageKeyFile: runtime.config.paths.ageKeyFile },
    runtime.config.sync.namespace,
  );
}
