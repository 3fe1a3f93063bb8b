/**
 * Fuzz target: the device registry in the bucket (registrations, revocation markers, the fleet
 * index) and this device's own `device.json`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseDeviceRecord } from "../../../core/device/device_record.ts";
import type { DeviceRecord } from "../../../core/device/device_record.ts";
import { listDevices, readDevice, revokedDevices } from "../../../core/device/device_registry.ts";
import { rebuildDeviceIndex } from "../../../core/device/device_index.ts";
import { readDeviceIdentity } from "../../../core/device/device_identity.ts";
import {
  deviceKey,
  DEVICES_INDEX_KEY,
  DEVICES_PREFIX,
  REVOKED_PREFIX,
  revokedKey,
} from "../../../core/remote/remote_keys.ts";
import { createMemoryStore } from "../../support/memory_store.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { below, hostileJson, hostileString, pick } from "../mutations.ts";

const IDS = [
  "0b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11",
  "1b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11",
  "2b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11",
];

function sampleRecord(id: string): DeviceRecord {
  return {
    format: 1,
    id,
    name: `device-${id.slice(0, 1)}`,
    age_public_key: "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
    platform: "linux-x86_64",
    tcfs_version: "0.7.0",
    enrolled_at: "2026-12-01T10:00:00.000Z",
    last_seen: "2026-12-03T10:00:00.000Z",
    revoked: id === IDS[2],
    ...(id === IDS[2] && { revoked_at: "2026-12-02T10:00:00.000Z", revoked_by: IDS[0] }),
  };
}

/** Objects to put in the store, and the text of `device.json`. */
interface RegistryInput {
  objects: [string, Uint8Array][];
  deviceJson: Uint8Array;
}

export const target: FuzzTarget<RegistryInput, string> = {
  open: () => Deno.makeTempDir({ prefix: "tcfs-fuzz-registry-" }),
  close: (dir) => Deno.remove(dir, { recursive: true }),
  input: (random) => {
    const objects: [string, Uint8Array][] = [];
    for (const id of IDS) {
      const record = sampleRecord(id);
      const key = random() < 0.9 ? deviceKey(id) : `${DEVICES_PREFIX}${hostileString(random)}`;
      const body = random() < 0.3
        ? new TextEncoder().encode(JSON.stringify(record))
        : hostileJson(random, record);
      objects.push([key, body]);
    }
    if (random() < 0.5) {
      const id = pick(random, IDS);
      const key = random() < 0.9 ? revokedKey(id) : `${REVOKED_PREFIX}${hostileString(random)}`;
      objects.push([key, hostileJson(random, { id, revoked_at: "2026-12-02T10:00:00.000Z" })]);
    }
    if (random() < 0.5) {
      objects.push([
        DEVICES_INDEX_KEY,
        hostileJson(random, { format: 1, devices: IDS.map(sampleRecord) }),
      ]);
    }
    const identity = { id: IDS[below(random, 3)], name: "yoga", created_at: "2026-12-01" };
    return { objects, deviceJson: hostileJson(random, identity) };
  },
  run: async ({ objects, deviceJson }, dir) => {
    const store = createMemoryStore();
    for (const [key, body] of objects) await store.put(key, body);
    const { fleet } = await rebuildDeviceIndex(store);
    for (const device of fleet.devices) {
      const stored = await store.get(deviceKey(device.id));
      assert.ok(stored && parseDeviceRecord(stored, device.id), "listed devices are valid");
      await readDevice(store, device.id);
    }
    assert.deepEqual((await listDevices(store)).devices, fleet.devices);
    // Sync compares these with versions' written_at as text: they must be canonical times.
    for (const [id, at] of await revokedDevices(store)) {
      assert.ok(!Number.isNaN(Date.parse(at)) && new Date(at).toISOString() === at, `${id}: ${at}`);
    }
    const file = join(dir, "device.json");
    await Deno.writeFile(file, deviceJson);
    await readDeviceIdentity(file);
  },
};
