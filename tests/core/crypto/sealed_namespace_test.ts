import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { firstKeychain, nextEpoch } from "../../../core/crypto/fleet_keychain.ts";
import { fleetKeysOf } from "../../../core/crypto/fleet_keys.ts";
import { CHUNK_FORMAT_SEALED } from "../../../core/chunking/chunk_codec.ts";
import { PACKS_PREFIX, segmentKey, versionKey } from "../../../core/remote/remote_keys.ts";
import { encodeFileVersion } from "../../../core/remote/file_version.ts";
import { plantSegment } from "../../support/journal_store.ts";
import { foldedPath } from "../../../core/journal/folded_versions.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import { markNamespaceSealed } from "../../../core/crypto/namespace_sealing.ts";
import { TEST_RECIPIENT, testFleetKeys } from "../../support/test_fleet_keys.ts";

function contains(haystack: Uint8Array, needle: string): boolean {
  return new TextDecoder("latin1").decode(haystack).includes(needle);
}

Deno.test("a sealed namespace keeps names and contents out of every stored object, and syncs", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-namespace-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  const keys = await testFleetKeys(a.ctx.device.id);
  a.ctx.keys = keys;
  b.ctx.keys = keys;
  const secretText = "the quarterly numbers are secret ".repeat(300);
  await Deno.mkdir(join(a.root, "plans-folder"));
  await Deno.writeTextFile(join(a.root, "plans-folder", "merger-notes.txt"), secretText);
  await Deno.writeTextFile(join(a.root, "small-name.txt"), "tiny secret\n");
  await a.pushAll();

  for (const [key, body] of store.objects) {
    for (
      const needle of ["merger-notes", "plans-folder", "small-name", "quarterly", "tiny secret"]
    ) {
      assert.ok(!contains(body, needle) && !key.includes(needle), `${key} holds ${needle}`);
    }
    if (key.startsWith(PACKS_PREFIX) || key.includes("/j/")) {
      assert.equal(body[0], CHUNK_FORMAT_SEALED, `${key} is sealed`);
    }
  }
  assert.deepEqual((await b.pullAll()).failures, []);
  assert.equal(
    await Deno.readTextFile(join(b.root, "plans-folder", "merger-notes.txt")),
    secretText,
  );
  assert.equal(await Deno.readTextFile(join(b.root, "small-name.txt")), "tiny secret\n");
  await tmp.remove();
});

Deno.test("a flipped bit in a sealed segment or pack fails clearly and writes nothing", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-tamper-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  using c = await openSyncDevice(tmp.path, "gamma", store);
  const keys = await testFleetKeys(a.ctx.device.id);
  a.ctx.keys = b.ctx.keys = c.ctx.keys = keys;
  await Deno.writeTextFile(join(a.root, "a.txt"), "alpha ".repeat(2000));
  await a.pushAll();

  const segment = segmentKey("default", a.ctx.device.id, 1);
  const good = store.objects.get(segment)!;
  const flipped = good.slice();
  flipped[flipped.length - 5] ^= 0x01;
  store.objects.set(segment, flipped);
  const unreadable = await catchUp(b.ctx);
  assert.equal(unreadable.length, 1);
  assert.equal(unreadable[0].kind, "corrupt_journal");
  assert.match(unreadable[0].message, /fails authentication/);
  store.objects.set(segment, good);

  const pack = [...store.objects.keys()].find((k) => k.startsWith(PACKS_PREFIX))!;
  const body = store.objects.get(pack)!.slice();
  body[body.length - 3] ^= 0x80;
  store.objects.set(pack, body);
  const pulled = await c.pullAll();
  assert.equal(pulled.failures.length, 1);
  assert.match(pulled.failures[0].error, /chunk .* is corrupt .*fails authentication/);
  await assert.rejects(Deno.stat(join(c.root, "a.txt")), Deno.errors.NotFound);
  await tmp.remove();
});

Deno.test("after a new epoch, a holder of only the old one opens old data and nothing new", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-epochs-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using r = await openSyncDevice(tmp.path, "revoked", store);
  const first = firstKeychain(a.ctx.device.id, TEST_RECIPIENT, undefined);
  const second = nextEpoch(first, a.ctx.device.id, () => true);
  r.ctx.keys = await fleetKeysOf(first);
  a.ctx.keys = await fleetKeysOf(first);
  await Deno.writeTextFile(join(a.root, "old.txt"), "before\n");
  await a.pushAll();
  a.ctx.keys = await fleetKeysOf(second);
  assert.equal(a.ctx.keys.epoch, 2);
  await Deno.writeTextFile(join(a.root, "new.txt"), "after\n");
  await a.pushAll();

  await assert.rejects(r.pullAll(), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, "not_approved");
    assert.match(err.message, /key epoch 2/);
    return true;
  });
  await tmp.remove();
});

Deno.test("in a sealed namespace, plaintext journal objects and old-layout versions are not folded", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-plaintext-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  a.ctx.keys = b.ctx.keys = await testFleetKeys(a.ctx.device.id);
  await Deno.writeTextFile(join(a.root, "real.txt"), "real\n");
  await a.pushAll();
  const [real] = foldedPath(a.ctx.state, trackedNamespace(a.ctx), "real.txt").heads;

  // Someone holding only the bucket keys files versions in plaintext, both ways.
  const mallory = crypto.randomUUID();
  const forged = { ...real.version, path: "forged.txt", author: mallory, vclock: { [mallory]: 1 } };
  await plantSegment(store, mallory, [forged]);
  await store.put(
    await versionKey("default", "legacy.txt", mallory, 1),
    encodeFileVersion({ ...forged, path: "legacy.txt" }),
  );
  const unreadable = await catchUp(b.ctx);
  assert.equal(unreadable.length, 1);
  assert.match(unreadable[0].message, /not sealed, in a namespace that is/);
  const pulled = await b.pullAll();
  assert.deepEqual(pulled.failures.map((f) => f.error.includes("is not sealed")), [true]);
  assert.deepEqual([...Deno.readDirSync(b.root)].map((e) => e.name), ["real.txt"]);
  await tmp.remove();
});

Deno.test("a device without keys puts nothing into a namespace sealed after its context was made", async () => {
  const tmp = await makeScopedTempDir("tcfs-sealed-late-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  await Deno.writeTextFile(join(a.root, "draft.txt"), "a draft nobody may read\n".repeat(500));
  assert.equal(await markNamespaceSealed(store, "default", 1, crypto.randomUUID()), true);
  const before = [...store.objects.keys()];
  await assert.rejects(a.pushAll(), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, "not_approved");
    return true;
  });
  const written = [...store.objects.keys()].filter((k) => !before.includes(k));
  // The store's id and the journal marker name no content; no pack, segment or checkpoint.
  assert.deepEqual(written.sort(), ["ns/default/journal.json", "tcfs-meta/store-id"]);
  await tmp.remove();
});
