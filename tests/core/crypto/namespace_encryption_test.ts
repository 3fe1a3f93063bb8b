import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore, type MemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { loadOrCreateAgeKey } from "../../../core/device/device_age_key.ts";
import type { KeyHolder } from "../../../core/crypto/device_keys.ts";
import { namespaceKeys } from "../../../core/crypto/device_keys.ts";
import { encryptNamespace } from "../../../core/crypto/namespace_encryption.ts";
import { rekeyNamespace } from "../../../core/crypto/fleet_rekey.ts";
import { sealedEpoch } from "../../../core/crypto/sealed_object.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import { historyUnder } from "../../../core/history/path_history.ts";
import { CHUNK_FORMAT_SEALED, decodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { PACKS_PREFIX } from "../../../core/remote/remote_keys.ts";

const NAMES = ["merger-notes", "plans-folder", "small-name"];
const MARK = "PLAINTEXT-NEEDLE-7f3c";

Deno.env.set("TCFS_SEAL_SETTLE_MS", "0");

/** Whether `needle` is in `body`, or in what it decompresses to (journal objects are zstd). */
async function contains(body: Uint8Array, needle: string): Promise<boolean> {
  const plain = await decodeChunk(body).catch(() => body);
  return [body, plain].some((b) => new TextDecoder("latin1").decode(b).includes(needle));
}

/** A file's content: random bytes (stored raw, not compressed) around a known marker. */
function content(seed: number): Uint8Array {
  const text = new TextEncoder().encode(`${MARK}-${seed}`);
  const bytes = new Uint8Array(20_000 + text.length);
  bytes.set(randomBytes(10_000, seed));
  bytes.set(text, 10_000);
  bytes.set(randomBytes(10_000, seed + 1000), 10_000 + text.length);
  return bytes;
}

async function holderOf(device: SyncDevice, home: string): Promise<KeyHolder> {
  const ageKeyFile = join(home, `${device.ctx.device.name}.age`);
  await loadOrCreateAgeKey(ageKeyFile);
  return { id: device.ctx.device.id, name: device.ctx.device.name, ageKeyFile };
}

async function assertNothingKnown(store: MemoryStore, prefix: string): Promise<void> {
  for (const [key, body] of store.objects) {
    if (!key.startsWith(prefix)) continue;
    for (const needle of [...NAMES, MARK]) {
      assert.ok(!await contains(body, needle) && !key.includes(needle), `${key} holds ${needle}`);
    }
  }
}

async function plaintextFleet(tmp: string, store: MemoryStore) {
  const a = await openSyncDevice(tmp, "alpha", store);
  const b = await openSyncDevice(tmp, "beta", store);
  await Deno.mkdir(join(a.root, "plans-folder"));
  await Deno.writeFile(join(a.root, "plans-folder", "merger-notes.txt"), content(1));
  await a.pushAll();
  await Deno.writeFile(join(a.root, "plans-folder", "merger-notes.txt"), content(2));
  await a.pushAll();
  await b.pullAll();
  await Deno.writeFile(join(b.root, "small-name.txt"), content(3));
  await b.pushAll();
  return { a, b };
}

Deno.test("store encrypt seals a plaintext namespace's journal, keeps its history, and syncs on", async () => {
  const tmp = await makeScopedTempDir("tcfs-encrypt-ns-");
  const store = createMemoryStore();
  const { a, b } = await plaintextFleet(tmp.path, store);
  using _a = a;
  using _b = b;
  // The check below can fail: before, the journal names the files.
  await assert.rejects(assertNothingKnown(store, "ns/"), /holds/);
  const holder = await holderOf(a, tmp.path);
  const historyBefore = (await historyUnder(a.ctx, "")).map((p) => [p.path, p.entries.length]);

  const report = await encryptNamespace(a.ctx, { rewrite: false, minAgeMs: 0, holder });
  assert.equal(report.created_keychain, true);
  assert.equal(report.already_sealed, false);
  assert.equal(report.reseal!.versions, 3);
  assert.ok(report.reseal!.packs.left > 0, "old packs stay plaintext without --rewrite");
  await assertNothingKnown(store, "ns/");

  // Beta holds no key yet: refused, with the approve hint.
  await assert.rejects(
    namespaceKeys(store, b.ctx.state, "default", await holderOf(b, tmp.path)),
    /not approved/,
  );
  // A device with the keys (alpha's) reads the whole history and pulls every byte.
  a.ctx.keys = await namespaceKeys(store, a.ctx.state, "default", holder);
  assert.ok(a.ctx.keys);
  const historyAfter = (await historyUnder(a.ctx, "")).map((p) => [p.path, p.entries.length]);
  assert.deepEqual(historyAfter, historyBefore);
  using c = await openSyncDevice(tmp.path, "gamma", store);
  c.ctx.keys = a.ctx.keys;
  assert.deepEqual((await c.pullAll()).failures, []);
  assert.deepEqual(
    await Deno.readFile(join(c.root, "plans-folder", "merger-notes.txt")),
    content(2),
  );
  assert.deepEqual(await Deno.readFile(join(c.root, "small-name.txt")), content(3));

  // New pushes are sealed.
  const packsBefore = new Set([...store.objects.keys()].filter((k) => k.startsWith(PACKS_PREFIX)));
  await Deno.writeFile(join(c.root, "small-name.txt"), content(4));
  await c.pushAll();
  const fresh = [...store.objects].filter(([k]) =>
    k.startsWith(PACKS_PREFIX) && !packsBefore.has(k)
  );
  assert.equal(fresh.length, 1);
  assert.equal(fresh[0][1][0], CHUNK_FORMAT_SEALED);
  await assertNothingKnown(store, "ns/");

  // Again: nothing to do.
  const again = await encryptNamespace(a.ctx, { rewrite: false, minAgeMs: 0, holder });
  assert.equal(again.already_sealed, true);
  assert.equal(again.reseal, undefined);

  // --rewrite: the old packs are copied sealed and the plaintext ones deleted (min age 0).
  const rewritten = await encryptNamespace(a.ctx, { rewrite: true, minAgeMs: 0, holder });
  assert.ok(rewritten.reseal!.packs.rewritten > 0);
  assert.equal(rewritten.reseal!.packs.left, 0);
  await assertNothingKnown(store, "");
  using d = await openSyncDevice(tmp.path, "delta", store);
  d.ctx.keys = a.ctx.keys;
  assert.deepEqual((await d.pullAll()).failures, []);
  assert.deepEqual(await Deno.readFile(join(d.root, "small-name.txt")), content(4));
  assert.deepEqual(
    await Deno.readFile(join(d.root, "plans-folder", "merger-notes.txt")),
    content(2),
  );
  assert.deepEqual(
    (await historyUnder(d.ctx, "")).map((p) => [p.path, p.entries.length]),
    [["plans-folder/merger-notes.txt", 2], ["small-name.txt", 2]],
  );
  await tmp.remove();
});

Deno.test("a plaintext writer racing store encrypt lands before the floor or is refused, and its retry is sealed", async () => {
  const tmp = await makeScopedTempDir("tcfs-encrypt-race-");
  const store = createMemoryStore();
  const { a, b } = await plaintextFleet(tmp.path, store);
  using _a = a;
  using _b = b;
  const holder = await holderOf(a, tmp.path);
  // Beta's context was made before the marker: it pushes in plaintext while alpha seals.
  await Deno.writeFile(join(b.root, "race-one.txt"), content(5));
  const [sealed, racing] = await Promise.allSettled([
    encryptNamespace(a.ctx, { rewrite: false, minAgeMs: 0, holder }),
    b.pushAll(),
  ]);
  assert.equal(sealed.status, "fulfilled");
  const refused = racing.status === "rejected" ||
    (racing.status === "fulfilled" && racing.value.failures.length > 0);
  // Beta is approved now (alpha shares its keys) and pushes again: sealed, and nothing lost.
  b.ctx.keys = await namespaceKeys(store, a.ctx.state, "default", holder);
  if (refused) {
    const retry = await b.pushAll();
    assert.deepEqual(retry.failures, []);
  }
  await Deno.writeFile(join(b.root, "race-two.txt"), content(6));
  assert.deepEqual((await b.pushAll()).failures, []);
  await assertNothingKnown(store, "ns/");
  using c = await openSyncDevice(tmp.path, "gamma", store);
  c.ctx.keys = b.ctx.keys;
  assert.deepEqual((await c.pullAll()).failures, []);
  assert.deepEqual(await Deno.readFile(join(c.root, "race-one.txt")), content(5));
  assert.deepEqual(await Deno.readFile(join(c.root, "race-two.txt")), content(6));
  await tmp.remove();
});

Deno.test("a segment a plaintext writer landed after the marker is sealed by store encrypt", async () => {
  const tmp = await makeScopedTempDir("tcfs-encrypt-late-");
  const store = createMemoryStore();
  const { a, b } = await plaintextFleet(tmp.path, store);
  using _a = a;
  using _b = b;
  const holder = await holderOf(a, tmp.path);
  // The marker goes first; a writer that looked just before it lands its segment in the wait.
  const marked = store.putConditional.bind(store);
  store.putConditional = async (key, body, condition) => {
    const done = await marked(key, body, condition);
    if (key.endsWith("/encryption.json")) {
      store.putConditional = marked;
      await store.delete(key);
      await Deno.writeFile(join(b.root, "late.txt"), content(7));
      assert.deepEqual((await b.pushAll()).failures, []);
      await marked(key, body, condition);
    }
    return done;
  };
  await encryptNamespace(a.ctx, { rewrite: false, minAgeMs: 0, holder });
  await assertNothingKnown(store, "ns/");
  using c = await openSyncDevice(tmp.path, "gamma", store);
  c.ctx.keys = await namespaceKeys(store, a.ctx.state, "default", holder);
  assert.deepEqual((await c.pullAll()).failures, []);
  assert.deepEqual(await Deno.readFile(join(c.root, "late.txt")), content(7));
  await tmp.remove();
});

Deno.test("store rekey reseals journal and packs with a new epoch that the old keychain cannot open", async () => {
  const tmp = await makeScopedTempDir("tcfs-rekey-");
  const store = createMemoryStore();
  const { a, b } = await plaintextFleet(tmp.path, store);
  using _a = a;
  using _b = b;
  const holder = await holderOf(a, tmp.path);
  await encryptNamespace(a.ctx, { rewrite: false, minAgeMs: 0, holder });
  const oldKeys = (await namespaceKeys(store, a.ctx.state, "default", holder))!;
  a.ctx.keys = oldKeys;
  await Deno.writeFile(join(a.root, "small-name.txt"), content(8));
  await a.pullAll();
  await Deno.writeFile(join(a.root, "after-seal.txt"), content(9));
  assert.deepEqual((await a.pushAll()).failures, []);

  const report = await rekeyNamespace(a.ctx, holder, { minAgeMs: 0 });
  assert.equal(report.from_epoch, 1);
  assert.equal(report.epoch, 2);
  assert.ok(report.reseal.packs.rewritten > 0);
  assert.equal(report.reseal.packs.left, 0);
  // Every journal object and pack is sealed with epoch 2 now.
  for (const [key, body] of store.objects) {
    if (!key.startsWith(PACKS_PREFIX) && !key.includes("/j/") && !key.includes("/cp/")) continue;
    assert.equal(sealedEpoch(body), 2, `${key} is sealed with epoch 2`);
  }
  // A device holding only epoch 1 (a revoked one's keychain) opens nothing.
  using old = await openSyncDevice(tmp.path, "old", store);
  old.ctx.keys = { ...oldKeys, epoch: 1, sealKey: (e) => e === 1 ? oldKeys.sealKey(1) : undefined };
  await assert.rejects(catchUpOrThrow(old), /epoch 2/);
  // An approved device pulls everything, and the history is whole.
  using c = await openSyncDevice(tmp.path, "gamma", store);
  c.ctx.keys = await namespaceKeys(store, a.ctx.state, "default", holder);
  assert.equal(c.ctx.keys!.epoch, 2);
  assert.deepEqual((await c.pullAll()).failures, []);
  assert.deepEqual(await Deno.readFile(join(c.root, "after-seal.txt")), content(9));
  assert.deepEqual(
    (await historyUnder(c.ctx, "")).map((p) => [p.path, p.entries.length]),
    [["after-seal.txt", 1], ["plans-folder/merger-notes.txt", 2], ["small-name.txt", 1]],
  );
  await tmp.remove();
});

async function catchUpOrThrow(device: SyncDevice): Promise<void> {
  const unreadable = await catchUp(device.ctx);
  if (unreadable.length > 0) throw unreadable[0];
}
