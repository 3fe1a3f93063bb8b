/**
 * The fleet registry in the bucket. Each device writes only its own registration
 * (`tcfs-meta/devices/<id>.json`); the one exception is another device marking it revoked or
 * replaced. Revocation also leaves a marker (`tcfs-meta/revoked/<id>.json`), so one listing
 * tells every command which authors to ignore. Listing the registrations is the truth; the fleet
 * index is only rebuilt from it (see `device_index.ts`).
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import type { StateDb } from "../state/state_db.ts";
import { fileUnderStore } from "../state/store_filing.ts";
import { isStoreUnreachable } from "../store/store_unreachable.ts";
import { createLimiter } from "../concurrency/limiter.ts";
import type { ObjectStore } from "../store/object_store.ts";
import { deviceKey, DEVICES_PREFIX, REVOKED_PREFIX, revokedKey } from "../remote/remote_keys.ts";
import {
  compareDeviceRecords,
  type DeviceRecord,
  encodeRegistryJson,
  isDeviceId,
  parseDeviceRecord,
} from "./device_record.ts";

/** The registered devices, and the registrations that could not be read. */
export interface FleetListing {
  /** Valid registrations, sorted by name then id, with revocation markers applied. */
  devices: DeviceRecord[];
  /** Keys under `tcfs-meta/devices/` that hold no valid registration. */
  damaged: string[];
}

/** What a device says about itself when it enrolls. */
export interface DeviceRegistration {
  id: string;
  name: string;
  agePublicKey: string;
  platform: string;
  tcfsVersion: string;
}

/** A device acting on the registry, for the record of who did what. */
export interface RegistryActor {
  id: string;
  name: string;
}

const READ_CONCURRENCY = 16;
/** A registration or revocation marker is a few hundred bytes; anything this big is not one. */
const MAX_RECORD_BYTES = 64 * 1024;
const UPDATE_ATTEMPTS = 8;
const ID_FILE = /^([0-9a-f-]{36})\.json$/;

/**
 * Lists every registered device (one listing plus one read per device, and one listing of the
 * revocation markers). Damaged registrations are reported, not fatal.
 *
 * @example
 * ```ts
 * const { devices } = await listDevices(store);
 * console.log(devices.map((d) => `${d.name}${d.revoked ? " (revoked)" : ""}`));
 * ```
 */
export async function listDevices(store: ObjectStore): Promise<FleetListing> {
  const [ids, revoked] = await Promise.all([
    listIds(store, DEVICES_PREFIX),
    revokedDevices(store),
  ]);
  const limiter = createLimiter(READ_CONCURRENCY);
  const devices: DeviceRecord[] = [];
  const damaged: string[] = [];
  await Promise.all(ids.valid.map((id) =>
    limiter.run(async () => {
      let bytes;
      try {
        bytes = await store.get(deviceKey(id), { maxBytes: MAX_RECORD_BYTES });
      } catch (err) {
        if (!(err instanceof TcfsError && err.kind === "oversized_object")) throw err;
        damaged.push(deviceKey(id));
        return;
      }
      if (bytes === undefined) return; // deleted between the listing and the read
      const record = parseDeviceRecord(bytes, id);
      if (record) devices.push(withMarker(record, revoked));
      else damaged.push(deviceKey(id));
    })
  ));
  return {
    devices: devices.sort(compareDeviceRecords),
    damaged: [...damaged, ...ids.stray].sort(),
  };
}

/**
 * Revoked devices and when each was revoked (ISO time), from the revocation markers: one
 * listing plus one read per revoked device. Sync passes it as `SyncContext.revoked`, so
 * versions a device wrote before its revocation stay visible and later ones are ignored.
 * A marker that can't be read, or whose time is not a time, counts as revoked since the epoch.
 * Times are given in the canonical ISO form, since sync compares them with versions'
 * `written_at` as text.
 *
 * @example
 * ```ts
 * const ctx = { ...base, revoked: await revokedDevices(store) };
 * ```
 */
export async function revokedDevices(store: ObjectStore): Promise<Map<string, string>> {
  const ids = (await listIds(store, REVOKED_PREFIX)).valid;
  const times = await Promise.all(ids.map(async (id) => {
    try {
      const bytes = await store.get(revokedKey(id), { maxBytes: MAX_RECORD_BYTES });
      const marker = JSON.parse(new TextDecoder().decode(bytes));
      const time = typeof marker.revoked_at === "string" ? Date.parse(marker.revoked_at) : NaN;
      return Number.isNaN(time) ? EPOCH : new Date(time).toISOString();
    } catch {
      return EPOCH;
    }
  }));
  return new Map(ids.map((id, i) => [id, times[i]]));
}

const EPOCH = new Date(0).toISOString();

/**
 * {@linkcode revokedDevices}, kept in `state` each time it is read, and the kept list when the
 * store cannot be reached: an offline device must not take an empty list for news that every
 * revocation was lifted (its fold of the heads would be made again with the revoked devices'
 * versions once the store answered).
 *
 * @example
 * ```ts
 * const ctx = { ...base, revoked: await revokedDevicesKept(store, state) };
 * ```
 */
export async function revokedDevicesKept(
  store: ObjectStore,
  state: StateDb,
): Promise<Map<string, string>> {
  const keptKey = fileUnderStore(store.location, "revoked_devices");
  try {
    const revoked = await revokedDevices(store);
    const kept = JSON.stringify([...revoked]);
    if (state.getMeta(keptKey) !== kept) state.setMeta(keptKey, kept);
    return revoked;
  } catch (err) {
    const kept = isStoreUnreachable(err) ? state.getMeta(keptKey) : undefined;
    if (kept === undefined) throw err;
    return new Map(JSON.parse(kept) as [string, string][]);
  }
}

/**
 * Reads one device's registration (revocation marker applied), or undefined when the device is
 * not registered or its registration is damaged.
 *
 * @example
 * ```ts
 * const me = await readDevice(store, identity.id);
 * if (me?.revoked) console.log("this device was revoked");
 * ```
 */
export async function readDevice(
  store: ObjectStore,
  id: string,
): Promise<DeviceRecord | undefined> {
  const [bytes, markerExists] = await Promise.all([
    store.get(deviceKey(id), { maxBytes: MAX_RECORD_BYTES }),
    store.has(revokedKey(id)),
  ]);
  const record = bytes && parseDeviceRecord(bytes, id);
  return record && withMarker(record, markerExists ? await revokedDevices(store) : new Map());
}

/**
 * Writes this device's registration: new on first enrollment, refreshed after (keeping
 * `enrolled_at`). Registering clears a `replaced_by` mark, since the device claims its name
 * again.
 *
 * @throws {TcfsError} (kind `device_revoked`) when the device was revoked.
 *
 * @example
 * ```ts
 * await registerDevice(store, { id, name: "yoga", agePublicKey, platform: "linux-x86_64", tcfsVersion: "0.7.0" });
 * ```
 */
export async function registerDevice(
  store: ObjectStore,
  registration: DeviceRegistration,
  now: Date = new Date(),
): Promise<DeviceRecord> {
  if (await store.has(revokedKey(registration.id))) throw deviceRevokedError(registration.id);
  const registered = await updateRecord(store, registration.id, (current) => {
    if (current?.revoked) throw deviceRevokedError(registration.id);
    return {
      format: 1,
      id: registration.id,
      name: registration.name,
      age_public_key: registration.agePublicKey,
      platform: registration.platform,
      tcfs_version: registration.tcfsVersion,
      enrolled_at: current?.enrolled_at ?? now.toISOString(),
      last_seen: now.toISOString(),
      revoked: false,
    };
  });
  return registered!;
}

/**
 * Records that the device is alive now. Does nothing for a device that is not registered.
 *
 * @example
 * ```ts
 * await touchLastSeen(store, identity.id); // e.g. when the daemon starts, then hourly
 * ```
 */
export async function touchLastSeen(
  store: ObjectStore,
  id: string,
  now: Date = new Date(),
): Promise<DeviceRecord | undefined> {
  return await updateRecord(
    store,
    id,
    (current) => current && { ...current, last_seen: now.toISOString() },
  );
}

/**
 * Revokes a device: writes its revocation marker, then marks its registration. Revoking a
 * revoked device again changes nothing.
 *
 * @example
 * ```ts
 * await revokeDevice(store, target, { id: me.id, name: me.name });
 * ```
 */
export async function revokeDevice(
  store: ObjectStore,
  target: DeviceRecord,
  by: RegistryActor,
  now: Date = new Date(),
): Promise<DeviceRecord> {
  const revokedAt = now.toISOString();
  // The marker is what others act on, so it goes first; the registration mirrors it.
  await store.putConditional(
    revokedKey(target.id),
    new TextEncoder().encode(
      JSON.stringify({
        format: 1,
        id: target.id,
        name: target.name,
        revoked_at: revokedAt,
        revoked_by: by.id,
      }) +
        "\n",
    ),
    { ifNoneMatch: "*" },
  );
  const updated = await updateRecord(
    store,
    target.id,
    (current) =>
      current && !current.revoked
        ? { ...current, revoked: true, revoked_at: revokedAt, revoked_by: by.id }
        : undefined,
  );
  return updated ?? { ...target, revoked: true };
}

/**
 * Marks `target` as replaced by device `byId`, which takes over its name (`enroll --replace`).
 * The replaced device stays in the fleet's history and its versions stay valid.
 *
 * @example
 * ```ts
 * await markReplaced(store, oldHolder, me.id);
 * ```
 */
export async function markReplaced(
  store: ObjectStore,
  target: DeviceRecord,
  byId: string,
): Promise<void> {
  await updateRecord(
    store,
    target.id,
    (current) => current && { ...current, replaced_by: byId },
  );
}

/**
 * Finds a device by name (the live holder first, then any) or by id.
 *
 * @example
 * ```ts
 * findDevice(devices, "yoga")?.id;
 * ```
 */
export function findDevice(
  devices: readonly DeviceRecord[],
  nameOrId: string,
): DeviceRecord | undefined {
  const named = devices.filter((d) => d.name === nameOrId);
  return named.find((d) => !d.revoked && d.replaced_by === undefined) ?? named[0] ??
    devices.find((d) => d.id === nameOrId.toLowerCase());
}

/**
 * Read-modify-write of one registration with a conditional write, so that a device refreshing
 * its own registration and another revoking it can't undo each other. `change` returns the new
 * record, or undefined to write nothing; it may run more than once.
 */
async function updateRecord(
  store: ObjectStore,
  id: string,
  change: (current: DeviceRecord | undefined) => DeviceRecord | undefined,
): Promise<DeviceRecord | undefined> {
  for (let attempt = 1;; attempt++) {
    const current = await store.getWithEtag(deviceKey(id), { maxBytes: MAX_RECORD_BYTES });
    const next = change(current && parseDeviceRecord(current.body, id));
    if (next === undefined) return current && parseDeviceRecord(current.body, id);
    const written = await store.putConditional(
      deviceKey(id),
      encodeRegistryJson(next),
      current ? { ifMatch: current.etag } : { ifNoneMatch: "*" },
    );
    if (written) return next;
    if (attempt === UPDATE_ATTEMPTS) {
      throw new TcfsError(`the registration of device ${id} kept changing while updating it`, {
        kind: "registry_busy",
        hint: "run the command again",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * attempt));
  }
}

function withMarker(record: DeviceRecord, revoked: ReadonlyMap<string, string>): DeviceRecord {
  const revokedAt = revoked.get(record.id);
  return revokedAt !== undefined && !record.revoked
    ? { ...record, revoked: true, revoked_at: revokedAt }
    : record;
}

async function listIds(
  store: ObjectStore,
  prefix: string,
): Promise<{ valid: string[]; stray: string[] }> {
  const valid: string[] = [];
  const stray: string[] = [];
  for await (const { key } of store.list(prefix)) {
    const id = ID_FILE.exec(key.slice(prefix.length))?.[1];
    if (id !== undefined && isDeviceId(id)) valid.push(id);
    else stray.push(key);
  }
  return { valid, stray };
}

/**
 * Refuses to let a revoked device write: call it before a push or a conflict resolution.
 * `revoked` is what {@linkcode revokedDevices} returns.
 *
 * @throws {TcfsError} (kind `device_revoked`).
 *
 * @example
 * ```ts
 * assertNotRevoked(ctx.device, ctx.revoked);
 * ```
 */
export function assertNotRevoked(
  device: { id: string },
  revoked: ReadonlyMap<string, string> | undefined,
): void {
  if (revoked?.has(device.id)) throw deviceRevokedError(device.id);
}

/**
 * The error for a revoked device that tries to register or push.
 *
 * @example
 * ```ts
 * if (revoked.has(me.id)) throw deviceRevokedError(me.id);
 * ```
 */
export function deviceRevokedError(id: string): TcfsError {
  return new TcfsError(`this device (${id}) has been revoked: it may no longer push or enroll`, {
    kind: "device_revoked",
    hint: "ask the fleet's admin; to rejoin as a new device, remove ~/.config/tcfs/device.json " +
      "and run `tcfs device enroll` (the old id stays revoked)",
  });
}
