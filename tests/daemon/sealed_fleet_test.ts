/**
 * Daemons syncing an end-to-end encrypted namespace on the real SeaweedFS and a real NATS
 * server. The fleet is sealed with the core APIs, as enrollment and `tcfs device revoke` do.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { stateStreamMessages } from "../support/state_stream_messages.ts";
import {
  type DaemonDevice,
  makeDaemonDevice,
  readIfExists,
  syncedSince,
  waitFor,
} from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { type NatsServer, startNatsServer } from "../support/nats_process.ts";
import { freshFleetBucket } from "../support/fleet_bucket.ts";
import { randomBytes } from "../support/random_bytes.ts";
import { tcfsPaths } from "../../platform/tcfs_paths.ts";
import { loadOrCreateAgeKey, readFirstIdentity } from "../../core/device/device_age_key.ts";
import { loadOrCreateDeviceIdentity } from "../../core/device/device_identity.ts";
import { registerDevice, revokeDevice } from "../../core/device/device_registry.ts";
import type { DeviceRecord } from "../../core/device/device_record.ts";
import {
  firstKeychain,
  type FleetKeychain,
  nextEpoch,
  withRecipient,
} from "../../core/crypto/fleet_keychain.ts";
import { readKeychain, writeKeychain } from "../../core/crypto/keychain_store.ts";
import { fleetKeysOf } from "../../core/crypto/fleet_keys.ts";
import { markNamespaceSealed } from "../../core/crypto/namespace_sealing.ts";
import {
  claimInvitation,
  createInvitation,
  INVITES_PREFIX,
} from "../../core/crypto/device_invites.ts";
import { boxEpoch } from "../../core/crypto/sealed_box.ts";
import { unsealStored } from "../../core/crypto/sealed_object.ts";
import { blake3Hex } from "../../core/hashing/blake3.ts";
import { chunkStream } from "../../core/chunking/fastcdc.ts";
import { CHUNK_FORMAT_SEALED } from "../../core/chunking/chunk_codec.ts";
import { PACKS_PREFIX } from "../../core/remote/remote_keys.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { TcfsError } from "../../core/errors.ts";

/** A fleet of daemons on a fresh bucket, its namespace sealed for the `approved` ones. */
interface SealedFleet extends AsyncDisposable {
  devices: DaemonDevice[];
  records: DeviceRecord[];
  store: ObjectStore;
  nats: NatsServer;
  namespace: string;
  keychain: FleetKeychain;
  logs(): Promise<string>;
}

async function sealedFleet(
  tmp: string,
  names: string[],
  options: { approved?: number; env?: Record<string, string> } = {},
): Promise<SealedFleet> {
  const fleet = freshFleetBucket();
  const nats = await startNatsServer();
  const namespace = `sealed-${crypto.randomUUID().slice(0, 8)}`;
  const env = {
    ...fleet.env,
    TCFS_NAMESPACE: namespace,
    TCFS_NATS_URL: nats.url,
    TCFS_POLL_INTERVAL_SECS: "1",
    ...options.env,
  };
  const store = await fleet.openStore();
  const devices: DaemonDevice[] = [];
  const records: DeviceRecord[] = [];
  for (const name of names) {
    const device = await makeDaemonDevice(tmp, name, env);
    const paths = tcfsPaths(device.env);
    const age = await loadOrCreateAgeKey(paths.ageKeyFile);
    const identity = await loadOrCreateDeviceIdentity(paths.deviceFile, name);
    devices.push(device);
    records.push(
      await registerDevice(store, {
        id: identity.id,
        name,
        agePublicKey: age.recipient,
        platform: "linux-x86_64",
        tcfsVersion: "test",
      }),
    );
  }
  const approved = records.slice(0, options.approved ?? records.length);
  let keychain = firstKeychain(approved[0].id, approved[0].age_public_key, undefined);
  for (const r of approved.slice(1)) {
    keychain = withRecipient(keychain, approved[0].id, r.id, r.age_public_key);
  }
  assert.ok(await writeKeychain(store, keychain));
  assert.ok(await markNamespaceSealed(store, namespace, 1, approved[0].id));
  return {
    devices,
    records,
    store,
    nats,
    namespace,
    keychain,
    logs: async () =>
      (await Promise.all(devices.map(async (d) => `${d.name}:\n${await d.log()}`))).join("\n"),
    async [Symbol.asyncDispose]() {
      for (const d of devices) if (d.running) await d.stop();
      store.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}

/** Every object in the bucket, key and body. */
async function bucketDump(store: ObjectStore): Promise<Map<string, Uint8Array>> {
  const objects = new Map<string, Uint8Array>();
  for await (const { key } of store.list("")) objects.set(key, (await store.get(key))!);
  return objects;
}

const text = async (path: string) => new TextDecoder().decode(await readIfExists(path));

/** The epoch of a sealed store object (a journal object, or a pack's first chunk). */
function objectEpoch(body: Uint8Array): number | undefined {
  return body[0] === CHUNK_FORMAT_SEALED ? boxEpoch(body.subarray(1)) : undefined;
}

/** The epoch of a sealed event payload. */
function eventEpoch(payload: string): number | undefined {
  const sealed = (JSON.parse(payload) as { sealed?: string }).sealed;
  return sealed === undefined ? undefined : boxEpoch(Buffer.from(sealed, "base64"));
}

Deno.test("sealed fleet: the bucket and the stream learn no name, content or plain chunk id", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-fleet-");
  await using fleet = await sealedFleet(tmp.path, ["devA", "devB"]);
  const [a, b] = fleet.devices;
  await a.start();
  await b.start();
  const small: Record<string, string> = {
    "merger-plans/board-minutes.txt": "the board approved the merger on tuesday\n",
    "salary-review.txt": "confidential salary review figures\n",
  };
  const large = randomBytes(3 * 1024 * 1024 + 12345);
  for (const [rel, content] of Object.entries(small)) {
    await Deno.mkdir(join(a.root, rel, ".."), { recursive: true });
    await Deno.writeTextFile(join(a.root, rel), content);
  }
  await Deno.writeFile(join(a.root, "quarterly-backup.bin"), large);
  await waitFor(
    async () =>
      (await Promise.all(
        Object.entries(small).map(async ([rel, c]) => await text(join(b.root, rel)) === c),
      )).every(Boolean) &&
      (await readIfExists(join(b.root, "quarterly-backup.bin")))?.length === large.length,
    60_000,
    fleet.logs,
  );
  assert.deepEqual(await readIfExists(join(b.root, "quarterly-backup.bin")), large);

  const plainIds = [
    ...await Promise.all(Object.values(small).map((c) => blake3Hex(new TextEncoder().encode(c)))),
  ];
  for await (const chunk of chunkStream(ReadableStream.from([large]))) {
    plainIds.push(await blake3Hex(chunk));
  }
  assert.ok(plainIds.length >= 4, "the large file has several chunks");
  const needles = [
    "merger-plans",
    "board-minutes",
    "salary-review",
    "quarterly-backup",
    ...Object.values(small).map((c) => c.trim()),
    ...plainIds,
  ];
  const largeSample = Buffer.from(large.subarray(1000, 1064));
  const objects = await bucketDump(fleet.store);
  assert.ok([...objects.keys()].some((k) => k.startsWith(PACKS_PREFIX)), "packs were written");
  for (const [key, body] of objects) {
    const bytes = Buffer.from(body);
    for (const needle of needles) {
      assert.ok(!key.includes(needle), `the key ${key} holds ${needle}`);
      assert.ok(!bytes.includes(needle), `${key} holds ${needle}`);
    }
    for (const id of plainIds) {
      assert.ok(!bytes.includes(Buffer.from(id, "hex")), `${key} holds a plain chunk id`);
    }
    assert.ok(!bytes.includes(largeSample), `${key} holds the large file's bytes`);
  }
  const messages = await stateStreamMessages(fleet.nats.url);
  assert.ok(messages.some((m) => m.subject.endsWith(".file_synced")), "file events were sent");
  for (const m of messages) {
    assert.deepEqual(Object.keys(JSON.parse(m.payload)), ["sealed"], m.payload);
    for (const needle of [...needles, fleet.namespace]) {
      assert.ok(!m.payload.includes(needle), `${m.subject} holds ${needle}`);
    }
  }
  await tmp.remove();
});

Deno.test("sealed fleet: after a revocation the others sync on without a restart, and the revoked device opens nothing new", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-revoke-");
  await using fleet = await sealedFleet(tmp.path, ["devA", "devB", "devC"]);
  const [a, b, c] = fleet.devices;
  for (const d of fleet.devices) await d.start();
  await Deno.writeTextFile(join(a.root, "before.txt"), "written before the revocation\n");
  await waitFor(
    async () =>
      await text(join(b.root, "before.txt")) === "written before the revocation\n" &&
      await text(join(c.root, "before.txt")) === "written before the revocation\n",
    30_000,
    fleet.logs,
  );
  const earlier = await bucketDump(fleet.store);
  const earlierMessages = (await stateStreamMessages(fleet.nats.url)).length;

  // What `tcfs device revoke devC` does: the registry marker, then epoch 2 without C.
  await revokeDevice(fleet.store, fleet.records[2], fleet.records[0]);
  assert.ok(
    await writeKeychain(
      fleet.store,
      nextEpoch(fleet.keychain, fleet.records[0].id, (id) => id !== fleet.records[2].id),
    ),
  );
  await Deno.writeTextFile(join(a.root, "after.txt"), "written after the revocation\n");
  await waitFor(
    async () => await text(join(b.root, "after.txt")) === "written after the revocation\n",
    30_000,
    fleet.logs,
  );
  await Deno.writeTextFile(join(b.root, "reply.txt"), "B answers after the revocation\n");
  await waitFor(
    async () => await text(join(a.root, "reply.txt")) === "B answers after the revocation\n",
    30_000,
    fleet.logs,
  );

  // C's keys are the keychain it could open: epoch 1 only.
  const cIdentity = (await readFirstIdentity(tcfsPaths(c.env).ageKeyFile))!.identity;
  const cAccess = await readKeychain(fleet.store, cIdentity, 1);
  assert.equal(cAccess.state, "pending", "C opens no keychain of epoch 2");
  const cKeys = await fleetKeysOf(fleet.keychain);
  const later = [...(await bucketDump(fleet.store))].filter(([key]) =>
    !earlier.has(key) && (key.startsWith(PACKS_PREFIX) || key.endsWith(".seg"))
  );
  assert.ok(later.some(([key]) => key.startsWith(PACKS_PREFIX)), "new packs were written");
  assert.ok(later.some(([key]) => key.endsWith(".seg")), "new segments were written");
  for (const [key, body] of later) {
    assert.equal(objectEpoch(body), 2, `${key} is sealed with epoch 2`);
    if (key.endsWith(".seg")) {
      await assert.rejects(
        unsealStored(cKeys, body, key),
        (err) => err instanceof TcfsError && err.kind === "not_approved",
      );
    }
  }
  // What C had stays readable to it.
  for (const [key, body] of earlier) {
    if (key.endsWith(".seg")) await unsealStored(cKeys, body, key);
  }
  const laterEvents = (await stateStreamMessages(fleet.nats.url)).slice(earlierMessages)
    .filter((m) => !m.subject.startsWith(`STATE.${fleet.records[2].id}.`));
  assert.ok(laterEvents.length > 0);
  for (const m of laterEvents) assert.equal(eventEpoch(m.payload), 2, m.subject);
  assert.equal(await readIfExists(join(c.root, "after.txt")), undefined);
  assert.equal(await text(join(c.root, "before.txt")), "written before the revocation\n");
  assert.ok(c.running, "C's daemon runs on");
  await tmp.remove();
});

Deno.test("sealed fleet: a concurrent edit is a conflict as usual, both edits kept", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-conflict-");
  await using fleet = await sealedFleet(tmp.path, ["devA", "devB"], {
    env: { TCFS_CONFLICT_MODE: "interactive" },
  });
  const [a, b] = fleet.devices;
  await a.start();
  await b.start();
  await Deno.writeTextFile(join(a.root, "notes.txt"), "v1\n");
  await waitFor(async () => await text(join(b.root, "notes.txt")) === "v1\n", 30_000, fleet.logs);
  await b.stop();
  const edited = Date.now();
  await Deno.writeTextFile(join(a.root, "notes.txt"), "edited on A\n");
  await Deno.writeTextFile(join(b.root, "notes.txt"), "edited on B\n");
  // A's edit is pushed before B comes back.
  await waitFor(() => syncedSince(a, edited), 30_000, fleet.logs);
  await b.start();
  await waitFor(async () => (await b.status()).sync.pending_conflicts === 1, 30_000, fleet.logs);
  assert.equal(await text(join(b.root, "notes.txt")), "edited on B\n");
  assert.equal(await text(join(a.root, "notes.txt")), "edited on A\n");
  assert.equal((await b.status()).encryption.state, "on");
  await tmp.remove();
});

Deno.test("sealed fleet: an unapproved daemon says to run `tcfs device approve`, writes nothing, and syncs once approved", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-unapproved-");
  await using fleet = await sealedFleet(tmp.path, ["devA", "devD"], { approved: 1 });
  const [a, d] = fleet.devices;
  await Deno.writeTextFile(join(d.root, "draft.txt"), "an unapproved draft\n");
  await a.start();
  await d.start();
  await waitFor(
    async () =>
      (await d.log()).includes("`tcfs device approve devD`") &&
      (await d.status()).encryption.state === "not_approved",
    30_000,
    fleet.logs,
  );
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.ok(d.running, "the daemon runs on");
  const status = await d.status();
  assert.match(status.sync.roots[0].last_error ?? "", /tcfs device approve/);
  for (const [key, body] of await bucketDump(fleet.store)) {
    assert.ok(!Buffer.from(body).includes("unapproved draft"), `${key} holds the draft`);
  }

  const aIdentity = (await readFirstIdentity(tcfsPaths(a.env).ageKeyFile))!.identity;
  const access = await readKeychain(fleet.store, aIdentity, 1);
  assert.equal(access.state, "approved");
  if (access.state !== "approved") return;
  const [, dRecord] = fleet.records;
  assert.ok(
    await writeKeychain(
      fleet.store,
      withRecipient(
        access.stored.keychain,
        fleet.records[0].id,
        dRecord.id,
        dRecord.age_public_key,
      ),
      access.stored.etag,
    ),
  );
  await waitFor(
    async () => await text(join(a.root, "draft.txt")) === "an unapproved draft\n",
    30_000,
    fleet.logs,
  );
  assert.equal((await d.status()).encryption.state, "on");
  await tmp.remove();
});

Deno.test("sealed fleet: a device that claims an invitation is let in by an approved daemon, with no one at its keyboard", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-invited-");
  await using fleet = await sealedFleet(tmp.path, ["devA", "devE"], { approved: 1 });
  const [a, e] = fleet.devices;
  const [aRecord, eRecord] = fleet.records;
  await Deno.writeTextFile(join(a.root, "welcome.txt"), "for the invited one\n");
  await a.start();
  const { token } = await createInvitation(
    fleet.store,
    await fleetKeysOf(fleet.keychain),
    aRecord.id,
  );
  await claimInvitation(fleet.store, token, eRecord.id, eRecord.age_public_key);
  await e.start();
  await waitFor(
    async () => await text(join(e.root, "welcome.txt")) === "for the invited one\n",
    30_000,
    fleet.logs,
  );
  assert.match(await a.log(), /approved devE: it enrolled with an invitation/);
  const invitations = [];
  for await (const { key } of fleet.store.list(INVITES_PREFIX)) invitations.push(key);
  assert.deepEqual(invitations, [], "the invitation is used up");
  await tmp.remove();
});
