/**
 * A device's registration, as stored at `tcfs-meta/devices/<id>.json`, and the checks every
 * reader applies to it: registrations come from the bucket, so they are untrusted input.
 *
 * @module
 */

import { isDeviceName } from "./device_name.ts";

/** One device's registration in the bucket. */
export interface DeviceRecord {
  /** Always 1 for this layout. */
  format: 1;
  /** The device id, a lowercase UUID; equals the id in the object's key. */
  id: string;
  /** The device name, unique among live devices. */
  name: string;
  /** The device's age X25519 public key (`age1…`), for `.sops.yaml`. */
  age_public_key: string;
  /** Operating system and CPU, e.g. `linux-x86_64`. */
  platform: string;
  /** The tcfs version that last wrote the record. */
  tcfs_version: string;
  /** When the device first enrolled (ISO 8601). */
  enrolled_at: string;
  /** When the device last announced itself (ISO 8601). */
  last_seen: string;
  /** True once another device revoked it; never undone. */
  revoked: boolean;
  /** When it was revoked. */
  revoked_at?: string;
  /** The id of the device that revoked it. */
  revoked_by?: string;
  /** Set when another device took over this device's name with `enroll --replace`. */
  replaced_by?: string;
}

/** What the fleet index `tcfs-meta/devices.json` holds. */
export interface DeviceIndex {
  /** Always 1 for this layout. */
  format: 1;
  /** Every registered device, sorted by name, then id. */
  devices: DeviceRecord[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{20,2000}$/;
const SHORT_TEXT = /^[\x20-\x7e]{1,64}$/;

/**
 * Whether `id` is a device id (a lowercase UUID).
 *
 * @example
 * ```ts
 * isDeviceId(crypto.randomUUID()); // true
 * ```
 */
export function isDeviceId(id: string): boolean {
  return UUID.test(id);
}

/**
 * Whether the device takes part in the fleet: not revoked and not replaced by another.
 *
 * @example
 * ```ts
 * fleet.filter(isLiveDevice).map((d) => d.name);
 * ```
 */
export function isLiveDevice(record: DeviceRecord): boolean {
  return !record.revoked && record.replaced_by === undefined;
}

/**
 * Parses a registration read from the object of device `expectedId`, or returns undefined when
 * it is not a valid registration of that device. Unknown fields are dropped.
 *
 * @example
 * ```ts
 * const record = parseDeviceRecord(bytes, expectedId);
 * ```
 */
export function parseDeviceRecord(bytes: Uint8Array, expectedId: string): DeviceRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const text = (value: unknown, pattern: RegExp) =>
    typeof value === "string" && pattern.test(value);
  const time = (value: unknown) => typeof value === "string" && !Number.isNaN(Date.parse(value));
  const optional = (value: unknown, valid: (v: unknown) => boolean) =>
    value === undefined || valid(value);
  const valid = r.format === 1 && r.id === expectedId && text(r.id, UUID) &&
    typeof r.name === "string" && isDeviceName(r.name) && text(r.age_public_key, AGE_RECIPIENT) &&
    text(r.platform, SHORT_TEXT) && text(r.tcfs_version, SHORT_TEXT) &&
    time(r.enrolled_at) && time(r.last_seen) && typeof r.revoked === "boolean" &&
    optional(r.revoked_at, time) && optional(r.revoked_by, (v) => text(v, UUID)) &&
    optional(r.replaced_by, (v) => text(v, UUID));
  if (!valid) return undefined;
  const record: DeviceRecord = {
    format: 1,
    id: r.id as string,
    name: r.name as string,
    age_public_key: r.age_public_key as string,
    platform: r.platform as string,
    tcfs_version: r.tcfs_version as string,
    enrolled_at: r.enrolled_at as string,
    last_seen: r.last_seen as string,
    revoked: r.revoked as boolean,
  };
  if (r.revoked_at !== undefined) record.revoked_at = r.revoked_at as string;
  if (r.revoked_by !== undefined) record.revoked_by = r.revoked_by as string;
  if (r.replaced_by !== undefined) record.replaced_by = r.replaced_by as string;
  return record;
}

/**
 * The bytes stored for a record or an index: pretty JSON with a final newline, so the same
 * content always gives the same bytes (and the same etag).
 *
 * @example
 * ```ts
 * await store.put(deviceKey(record.id), encodeRegistryJson(record));
 * ```
 */
export function encodeRegistryJson(value: DeviceRecord | DeviceIndex): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Orders records for display and for the index: by name, then id.
 *
 * @example
 * ```ts
 * records.sort(compareDeviceRecords);
 * ```
 */
export function compareDeviceRecords(a: DeviceRecord, b: DeviceRecord): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
