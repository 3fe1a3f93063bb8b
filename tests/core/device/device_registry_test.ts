import assert from "node:assert/strict";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import {
  listDevices,
  readDevice,
  registerDevice,
  revokedDevices,
  revokeDevice,
  touchLastSeen,
} from "../../../core/device/device_registry.ts";
import { rebuildDeviceIndex } from "../../../core/device/device_index.ts";
import type { DeviceIndex } from "../../../core/device/device_record.ts";
import { deviceKey, DEVICES_INDEX_KEY } from "../../../core/remote/remote_keys.ts";
import { TcfsError } from "../../../core/errors.ts";
import { oversizedObject } from "../../../core/store/oversized_object.ts";
import { freshFleetBucket } from "../../support/fleet_bucket.ts";

const freshBucket = () => freshFleetBucket().openStore();

function registration(name: string) {
  return {
    id: crypto.randomUUID(),
    name,
    agePublicKey: "age1" + "q".repeat(58),
    platform: "linux-x86_64",
    tcfsVersion: "0.7.0",
  };
}

async function readIndex(store: ObjectStore): Promise<DeviceIndex> {
  return JSON.parse(new TextDecoder().decode(await store.get(DEVICES_INDEX_KEY)));
}

Deno.test("re-registering keeps enrolled_at and refreshes last_seen", async () => {
  await using store = await freshBucket();
  const yoga = registration("yoga");
  const first = await registerDevice(store, yoga, new Date("2026-11-01T00:00:00Z"));
  const again = await registerDevice(store, yoga, new Date("2026-11-02T00:00:00Z"));
  assert.equal(again.enrolled_at, first.enrolled_at);
  assert.equal(again.last_seen, "2026-11-02T00:00:00.000Z");
  const touched = await touchLastSeen(store, yoga.id, new Date("2026-11-03T00:00:00Z"));
  assert.equal(touched?.last_seen, "2026-11-03T00:00:00.000Z");
  assert.deepEqual(await readDevice(store, yoga.id), touched);
  assert.equal(await touchLastSeen(store, crypto.randomUUID()), undefined);
});

Deno.test("revocation: marker listed, registration marked, touch keeps it, re-registering refused", async () => {
  await using store = await freshBucket();
  const admin = registration("admin");
  const lost = registration("lost-laptop");
  await registerDevice(store, admin);
  const record = await registerDevice(store, lost);
  await revokeDevice(store, record, { id: admin.id, name: admin.name });
  assert.deepEqual([...(await revokedDevices(store)).keys()], [lost.id]);
  assert.equal((await touchLastSeen(store, lost.id))?.revoked, true);
  const read = await readDevice(store, lost.id);
  assert.equal(read?.revoked, true);
  assert.equal(read?.revoked_by, admin.id);
  await assert.rejects(
    () => registerDevice(store, lost),
    (err: unknown) => err instanceof TcfsError && err.kind === "device_revoked",
  );
});

Deno.test("the marker alone marks a device revoked, even if its registration says otherwise", async () => {
  await using store = await freshBucket();
  const lost = registration("lost-laptop");
  const record = await registerDevice(store, lost);
  await revokeDevice(store, record, { id: crypto.randomUUID(), name: "admin" });
  // The revoked device (or an old tcfs) rewrites its registration as not revoked.
  await store.put(deviceKey(lost.id), new TextEncoder().encode(JSON.stringify(record)));
  const { devices } = await listDevices(store);
  assert.equal(devices[0].revoked, true);
});

Deno.test("damaged registrations are reported and skipped; a garbage index is rebuilt", async () => {
  await using store = await freshBucket();
  const yoga = registration("yoga");
  await registerDevice(store, yoga);
  const forgedId = crypto.randomUUID();
  await store.put(
    deviceKey(forgedId),
    new TextEncoder().encode('{"format":1,"id":"someone-else"}'),
  );
  await store.put("tcfs-meta/devices/notes.txt", new TextEncoder().encode("hello"));
  await store.put(DEVICES_INDEX_KEY, new TextEncoder().encode("\u0000garbage{{{"));
  const rebuilt = await rebuildDeviceIndex(store);
  assert.equal(rebuilt.written, true);
  assert.deepEqual(
    rebuilt.fleet.damaged,
    [deviceKey(forgedId), "tcfs-meta/devices/notes.txt"].sort(),
  );
  assert.deepEqual((await readIndex(store)).devices.map((d) => d.id), [yoga.id]);
  // Nothing changed since: the next rebuild writes nothing.
  assert.equal((await rebuildDeviceIndex(store)).written, false);
});

/** The store, except that its first listing of `prefix` waits for `gate` before answering. */
function withSlowListing(store: ObjectStore, prefix: string, gate: Promise<void>): ObjectStore {
  let delayed = false;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== "list") return Reflect.get(target, property, receiver);
      return async function* (listed: string) {
        const items = [];
        for await (const item of target.list(listed)) items.push(item);
        if (listed === prefix && !delayed) {
          delayed = true;
          await gate;
        }
        yield* items;
      };
    },
  });
}

for (const backend of ["SeaweedFS", "filesystem"] as const) {
  Deno.test(`${backend}: a rebuild that listed before another device registered does not win`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tcfs-registry-" });
    await using s3 = await freshBucket();
    const store = backend === "SeaweedFS" ? s3 : createFsStore(dir);
    const early = registration("early");
    const late = registration("late");
    await registerDevice(store, early);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // `early` lists the fleet (only itself), then stalls before writing the index...
    const slow = rebuildDeviceIndex(withSlowListing(store, "tcfs-meta/devices/", gate));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // ...while `late` registers and writes the index.
    await registerDevice(store, late);
    assert.equal((await rebuildDeviceIndex(store)).written, true);
    open();
    const result = await slow;
    // Its stale write was refused, it listed again, and found the index already right.
    assert.ok(result.attempts >= 2, `attempts: ${result.attempts}`);
    const indexed = (await readIndex(store)).devices.map((d) => d.name);
    assert.deepEqual(indexed, ["early", "late"]);
    await Deno.remove(dir, { recursive: true });
  });

  Deno.test(`${backend}: 16 devices registering and rebuilding at once all end up in the index`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tcfs-registry-" });
    await using s3 = await freshBucket();
    const store = backend === "SeaweedFS" ? s3 : createFsStore(dir);
    const devices = Array.from({ length: 16 }, (_, i) => registration(`dev-${i}`));
    const rebuilds = await Promise.all(devices.map(async (d) => {
      await registerDevice(store, d);
      return await rebuildDeviceIndex(store);
    }));
    assert.ok(rebuilds.every((r) => r.current), JSON.stringify(rebuilds.map((r) => r.attempts)));
    const indexed = (await readIndex(store)).devices.map((d) => d.id).sort();
    assert.deepEqual(indexed, devices.map((d) => d.id).sort());
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("a huge object posing as a device record is listed as damaged, never buffered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-registry-huge-" });
  try {
    const inner = createFsStore(dir);
    const good = await registerDevice(inner, registration("yoga"));
    const huge = deviceKey(crypto.randomUUID());
    await inner.put(huge, new Uint8Array(1));
    // Serves `huge` as a 1 TiB object: readable only by a reader that caps what it accepts.
    const store: ObjectStore = {
      ...inner,
      get: (key, options) => {
        if (key !== huge) return inner.get(key, options);
        if (options?.maxBytes === undefined) throw new Error("would buffer 1 TiB");
        return Promise.reject(oversizedObject(key, 2 ** 40, options.maxBytes));
      },
    };
    const { devices, damaged } = await listDevices(store);
    assert.deepEqual(devices.map((d) => d.id), [good.id]);
    assert.deepEqual(damaged, [huge]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
