/**
 * A fleet's first keys for tests of sealed content: a keychain of epoch 1 wrapped to a fixed
 * test recipient, whose keys the test holds directly.
 *
 * @module
 */

import { firstKeychain } from "../../core/crypto/fleet_keychain.ts";
import { type FleetKeys, fleetKeysOf } from "../../core/crypto/fleet_keys.ts";

/** An age recipient for keychains no test unwraps. */
export const TEST_RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

/**
 * The keys of a new fleet's first epoch, as the device `writtenBy` would create them.
 *
 * @example
 * ```ts
 * a.ctx.keys = b.ctx.keys = await testFleetKeys(a.ctx.device.id);
 * ```
 */
export async function testFleetKeys(writtenBy: string = crypto.randomUUID()): Promise<FleetKeys> {
  return await fleetKeysOf(firstKeychain(writtenBy, TEST_RECIPIENT, undefined));
}
