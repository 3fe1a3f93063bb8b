/**
 * This device's identity: a UUID made once and kept, and a human name.
 *
 * @module
 */

import { dirname } from "node:path";
import { TcfsError } from "../errors.ts";

/** What `device.json` holds. */
export interface DeviceIdentity {
  id: string;
  name: string;
  created_at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Reads the identity at `path`, or undefined when there is none yet.
 *
 * @example
 * ```ts
 * const identity = await readDeviceIdentity("/home/me/.config/tcfs/device.json");
 * ```
 */
export async function readDeviceIdentity(path: string): Promise<DeviceIdentity | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  // The file may hold any JSON at all (null, a list) after a bad edit or a bad restore.
  const value: Partial<DeviceIdentity> = typeof parsed === "object" && parsed !== null
    ? parsed
    : {};
  if (typeof value.id !== "string" || !UUID.test(value.id) || typeof value.name !== "string") {
    throw new TcfsError(`device identity ${path} is damaged`, {
      kind: "device_identity_invalid",
      hint:
        `restore it from a backup, or remove it and run \`tcfs device enroll\` to make a new one`,
    });
  }
  return value as DeviceIdentity;
}

/**
 * Returns the stored identity, making one on first use. The stored name is
 * kept in step with `name` (the configured device name).
 *
 * @example
 * ```ts
 * const me = await loadOrCreateDeviceIdentity(paths.deviceFile, config.sync.deviceName);
 * ```
 */
export async function loadOrCreateDeviceIdentity(
  path: string,
  name: string,
): Promise<DeviceIdentity> {
  const existing = await readDeviceIdentity(path);
  if (existing && existing.name === name) return existing;
  const identity: DeviceIdentity = existing
    ? { ...existing, name }
    : { id: crypto.randomUUID(), name, created_at: new Date().toISOString() };
  await writeDeviceIdentity(path, identity);
  return identity;
}

/**
 * Writes the identity atomically.
 *
 * @example
 * ```ts
 * await writeDeviceIdentity(path, { id, name, created_at });
 * ```
 */
export async function writeDeviceIdentity(path: string, identity: DeviceIdentity): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temp, JSON.stringify(identity, null, 2) + "\n", { mode: 0o644 });
  await Deno.rename(temp, path);
}
