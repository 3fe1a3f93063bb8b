/**
 * Push, pull and conflict resolution in process, on a memory store with a
 * fault injected between their stages. Each test asserts what is on disk and
 * in the store afterwards, and that the next run converges.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { TcfsError } from "../../core/errors.ts";
import { withRetry } from "../../core/store/retrying_store.ts";
import { journalPrefix, packKey } from "../../core/remote/remote_keys.ts";
import { createMemoryStore, type MemoryStore } from "../support/memory_store.ts";
import { type FaultyStore, withFaults } from "../support/faulty_store.ts";
import { openSyncDevice } from "../support/sync_device.ts";
import { randomBytes } from "../support/random_bytes.ts";
import { fileSha256, restoreEveryVersion, storedVersions } from "./store_audit.ts";
import { storeHeads } from "../support/journal_store.ts";

/** Where versions are written: one segment per push batch, in each device's journal. */
const VERSIONS = journalPrefix("default");

/** A memory store behind the fault decorator, and a temp folder for devices. */
async function setup(): Promise<{ raw: MemoryStore; store: FaultyStore; dir: string }> {
  const raw = createMemoryStore();
  return { raw, store: withFaults(raw), dir: await Deno.makeTempDir({ prefix: "tcfs-faults-" }) };
}

const keysUnder = (raw: MemoryStore, prefix: string) =>
  [...raw.objects.keys()].filter((k) => k.startsWith(prefix));

/** Names of the files left in a folder (temp files included). */
async function namesIn(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort();
}

/** Every chunk every stored version names is in the store. */
async function assertVersionsNameOnlyStoredPacks(raw: MemoryStore): Promise<void> {
  for (const { key, version } of await storedVersions(raw)) {
    for (const chunk of version.chunks) {
      if (chunk.pack === undefined) continue;
      const pack = raw.objects.get(packKey(chunk.pack));
      assert.ok(pack, `${key} names ${chunk.pack}, which is not in the store`);
      assert.ok(pack.length >= chunk.offset! + chunk.length!, `${key}: ${chunk.pack} too short`);
    }
  }
}

Deno.test("a version put that fails after its packs landed: no version, and the next push converges", async () => {
  const { raw, store, dir } = await setup();
  using a = await openSyncDevice(dir, "alpha", store);
  using b = await openSyncDevice(dir, "bravo", store);
  const big = randomBytes(300_000, 11);
  await Deno.writeFile(join(a.root, "big.bin"), big);
  await Deno.writeTextFile(join(a.root, "small.txt"), "small\n");
  store.inject({ op: "putConditional", keyPrefix: VERSIONS, action: "fail", times: 100 });
  await assert.rejects(a.pushAll(), (err: TcfsError) => err.kind === "store_unreachable");
  assert.ok(keysUnder(raw, "packs/").length > 0, "the packs landed");
  assert.deepEqual(keysUnder(raw, VERSIONS), []);

  store.heal();
  const again = await a.pushAll();
  assert.equal(again.files, 2);
  await assertVersionsNameOnlyStoredPacks(raw);
  await b.pullAll();
  assert.deepEqual(await Deno.readFile(join(b.root, "big.bin")), big);
  assert.equal(await Deno.readTextFile(join(b.root, "small.txt")), "small\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a version put whose answer is lost: the next push adopts it, with no conflict and no second version", async () => {
  const { raw, store, dir } = await setup();
  using a = await openSyncDevice(dir, "alpha", store);
  await Deno.writeTextFile(join(a.root, "note.txt"), "written once\n");
  store.inject({ op: "putConditional", keyPrefix: VERSIONS, action: "drop-after" });
  await assert.rejects(a.pushAll(), Deno.errors.ConnectionReset);
  assert.equal((await storedVersions(raw)).length, 1, "the write landed");

  const again = await a.pushAll();
  assert.deepEqual(again.conflicts, []);
  assert.equal(again.files, 0, "nothing new to write");
  assert.equal((await storedVersions(raw)).length, 1);
  assert.equal((await a.pushAll()).unchanged, 1, "and it is tracked now");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("transient failures of every call kind under withRetry: push and pull complete in one run", async () => {
  const { raw, store, dir } = await setup();
  const retrying = withRetry(store, { baseDelayMs: 1, maxDelayMs: 2 });
  using a = await openSyncDevice(dir, "alpha", retrying);
  using b = await openSyncDevice(dir, "bravo", retrying);
  const big = randomBytes(6 << 20, 12);
  await Deno.writeFile(join(a.root, "big.bin"), big);
  const fired = [
    store.inject({ op: "list", action: "fail", nth: 1 }),
    store.inject({ op: "put", keyPrefix: "packs/", action: "drop-after" }),
    store.inject({ op: "putConditional", keyPrefix: VERSIONS, action: "fail", times: 2 }),
  ];
  assert.equal((await a.pushAll()).files, 1);
  fired.push(
    store.inject({ op: "list", action: "drop-after", nth: 1 }),
    store.inject({ op: "get", keyPrefix: VERSIONS, action: "fail" }),
    store.inject({ op: "getRange", action: "fail", nth: 2, times: 3 }),
  );
  assert.equal((await b.pullAll()).files, 1);
  assert.deepEqual(fired.map((f) => f() > 0), fired.map(() => true), "every fault fired");
  assert.deepEqual(await Deno.readFile(join(b.root, "big.bin")), big);
  await assertVersionsNameOnlyStoredPacks(raw);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a pack put that fails: no version names a missing pack, and the next push converges", async () => {
  const { raw, store, dir } = await setup();
  using a = await openSyncDevice(dir, "alpha", store);
  using b = await openSyncDevice(dir, "bravo", store);
  const files = [1, 2, 3].map((i) => randomBytes(2_000_000 + i, 20 + i));
  for (const [i, bytes] of files.entries()) await Deno.writeFile(join(a.root, `f${i}.bin`), bytes);
  store.inject({ op: "put", keyPrefix: "packs/", action: "fail", nth: 2 });
  await assert.rejects(a.pushAll(), (err: TcfsError) => err.kind === "store_unreachable");
  await assertVersionsNameOnlyStoredPacks(raw);

  await a.pushAll();
  await assertVersionsNameOnlyStoredPacks(raw);
  assert.equal((await storedVersions(raw)).length, 3);
  await b.pullAll();
  for (const [i, bytes] of files.entries()) {
    assert.deepEqual(await Deno.readFile(join(b.root, `f${i}.bin`)), bytes);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a pack the store acknowledged and lost: a pull refuses the version and writes nothing", async () => {
  const { store, dir } = await setup();
  using a = await openSyncDevice(dir, "alpha", store);
  using b = await openSyncDevice(dir, "bravo", store);
  await Deno.writeFile(join(a.root, "big.bin"), randomBytes(300_000, 30));
  store.inject({ op: "put", keyPrefix: "packs/", action: "lose" });
  await a.pushAll();
  const pulled = await b.pullAll();
  assert.equal(pulled.files, 0);
  assert.match(pulled.failures[0]?.error ?? "", /missing from the store/);
  assert.deepEqual(await namesIn(b.root), [], "no file and no temp file");
  await Deno.remove(dir, { recursive: true });
});

/** Alpha and bravo both hold `big.bin` v1; alpha has pushed v2. */
async function bravoOneVersionBehind(dir: string, store: FaultyStore) {
  const a = await openSyncDevice(dir, "alpha", store);
  const b = await openSyncDevice(dir, "bravo", store);
  const v1 = randomBytes(6 << 20, 40);
  const v2 = randomBytes(6 << 20, 41);
  await Deno.writeFile(join(a.root, "big.bin"), v1);
  await a.pushAll();
  await b.pullAll();
  await Deno.writeFile(join(a.root, "big.bin"), v2);
  await a.pushAll();
  return { a, b, v1, v2 };
}

Deno.test("a get that fails mid-pull leaves the local file untouched, and the next pull completes", async () => {
  const { store, dir } = await setup();
  const { a, b, v1, v2 } = await bravoOneVersionBehind(dir, store);
  using _a = a;
  using _b = b;
  const before = await Deno.stat(join(b.root, "big.bin"));
  store.inject({ op: "getRange", action: "fail", nth: 2 });
  await assert.rejects(b.pullAll(), (err: TcfsError) => err.kind === "store_unreachable");
  assert.deepEqual(await Deno.readFile(join(b.root, "big.bin")), v1);
  assert.equal((await Deno.stat(join(b.root, "big.bin"))).ino, before.ino);
  assert.deepEqual(await namesIn(b.root), ["big.bin"], "the temp file is gone");

  assert.equal((await b.pullAll()).files, 1);
  assert.deepEqual(await Deno.readFile(join(b.root, "big.bin")), v2);
  assert.equal((await b.pushAll()).files, 0, "and bravo has nothing to push back");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a listing that fails stops push and pull with the store's error, and nothing changes", async () => {
  const { raw, store, dir } = await setup();
  const { a, b, v1 } = await bravoOneVersionBehind(dir, store);
  using _a = a;
  using _b = b;
  const namespace = keysUnder(raw, "ns/default/");
  const failsClearly = (err: TcfsError) =>
    err.kind === "store_unreachable" && err.message.includes(store.location) &&
    err.message.includes("list ns/default/");
  store.inject({ op: "list", action: "fail" });
  await assert.rejects(b.pullAll(), failsClearly);
  assert.deepEqual(await Deno.readFile(join(b.root, "big.bin")), v1);

  await Deno.writeTextFile(join(b.root, "new.txt"), "new\n");
  store.inject({ op: "list", action: "fail" });
  await assert.rejects(b.pushAll(), failsClearly);
  assert.deepEqual(keysUnder(raw, "ns/default/"), namespace, "no version written or removed");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a local edit made while a pull downloads is kept, and the next push meets a conflict", async () => {
  const { store, dir } = await setup();
  const { a, b, v2 } = await bravoOneVersionBehind(dir, store);
  using _a = a;
  using _b = b;
  let open!: () => void;
  const fired = store.inject({
    op: "getRange",
    action: "delay",
    until: new Promise<void>((resolve) => open = resolve),
  });
  const pulling = b.pullAll();
  while (fired() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await Deno.writeTextFile(join(b.root, "big.bin"), "edited during the pull\n");
  open();
  const pulled = await pulling;
  assert.equal(pulled.files, 0);
  assert.match(pulled.failures[0]?.error ?? "", /changed during the pull/);
  assert.equal(await Deno.readTextFile(join(b.root, "big.bin")), "edited during the pull\n");
  assert.deepEqual(await namesIn(b.root), ["big.bin"]);

  const pushed = await b.pushAll();
  assert.deepEqual(pushed.conflicts, ["tcfs/default/big.bin"]);
  const { heads } = (await storeHeads(store)).path("big.bin");
  assert.equal(heads.length, 1);
  assert.equal(heads[0].version.size, v2.length, "alpha's version stands");
  await Deno.remove(dir, { recursive: true });
});

/**
 * Alpha and bravo push edits of one synced file at once: alpha's version
 * write waits until bravo's push is done, so neither saw the other.
 */
async function racingEdits(dir: string, store: FaultyStore, bravoMode: "auto" | "interactive") {
  const a = await openSyncDevice(dir, "alpha", store, "auto");
  const b = await openSyncDevice(dir, "bravo", store, bravoMode);
  await Deno.writeTextFile(join(a.root, "doc.txt"), "first\n");
  await a.pushAll();
  await b.pullAll();
  await Deno.writeTextFile(join(a.root, "doc.txt"), "alpha's edit\n");
  await Deno.writeTextFile(join(b.root, "doc.txt"), "bravo's edit, longer\n");
  let open!: () => void;
  const fired = store.inject({
    op: "putConditional",
    keyPrefix: VERSIONS,
    action: "delay",
    until: new Promise<void>((resolve) => open = resolve),
  });
  const alphaPush = a.pushAll();
  while (fired() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const bravoPush = await b.pushAll();
  open();
  const alphaSummary = await alphaPush;
  assert.deepEqual([alphaSummary.files, bravoPush.files], [1, 1], "both pushes wrote a version");
  return { a, b };
}

/** The text of every file under a root, sorted. */
async function contents(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (e.isFile) out.push(await Deno.readTextFile(join(root, e.name)));
  }
  return out.sort();
}

Deno.test("two pushes racing on one path: both versions stay heads, and auto resolution keeps both on every device", async () => {
  const { store, dir } = await setup();
  const { a, b } = await racingEdits(dir, store, "auto");
  using _a = a;
  using _b = b;
  const { heads } = (await storeHeads(store)).path("doc.txt");
  assert.deepEqual(
    heads.map((v) => v.version.author_name).sort(),
    ["alpha", "bravo"],
    "two concurrent heads, neither deleted",
  );

  await a.pullAll();
  await b.pullAll();
  await a.pullAll();
  const expected = ["alpha's edit\n", "bravo's edit, longer\n"];
  assert.deepEqual(await contents(a.root), expected);
  assert.deepEqual(await contents(b.root), expected);
  assert.deepEqual(await namesIn(a.root), await namesIn(b.root));
  assert.equal(await Deno.readTextFile(join(b.root, "doc.txt")), "alpha's edit\n", "alpha wins");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("auto resolution whose winning version write fails: the conflict is queued, and the next pull keeps both sides", async () => {
  const { store, dir } = await setup();
  const { a, b } = await racingEdits(dir, store, "auto");
  using _a = a;
  using _b = b;
  // Bravo loses: its copy version is written first, then the winner's write fails.
  const fired = store.inject({ op: "putConditional", keyPrefix: VERSIONS, action: "fail", nth: 2 });
  const failed = await b.pullAll();
  assert.equal(fired(), 1);
  assert.deepEqual(failed.conflicts, ["tcfs/default/doc.txt"]);

  await b.pullAll();
  await a.pullAll();
  const expected = ["alpha's edit\n", "bravo's edit, longer\n"];
  assert.deepEqual(await contents(b.root), expected);
  assert.deepEqual(await contents(a.root), expected);
  assert.deepEqual(await namesIn(a.root), await namesIn(b.root));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("auto resolution whose conflict-copy write fails: the next pull still keeps both sides", async () => {
  const { store, dir } = await setup();
  const { a, b } = await racingEdits(dir, store, "auto");
  using _a = a;
  using _b = b;
  // Bravo loses: its edit is moved to the copy's name, then the copy's version write fails.
  const fired = store.inject({ op: "putConditional", keyPrefix: VERSIONS, action: "fail" });
  const failed = await b.pullAll();
  assert.equal(fired(), 1);
  assert.deepEqual(failed.conflicts, ["tcfs/default/doc.txt"]);

  for (const device of [b, a, b, a]) await device.pullAll().then(() => device.pushAll());
  const expected = ["alpha's edit\n", "bravo's edit, longer\n"];
  assert.deepEqual(await contents(b.root), expected);
  assert.deepEqual(await contents(a.root), expected);
  assert.deepEqual(await namesIn(a.root), await namesIn(b.root));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("superseded versions that cannot be deleted stay as garbage and change nothing", async () => {
  const { raw, store, dir } = await setup();
  using a = await openSyncDevice(dir, "alpha", store);
  using b = await openSyncDevice(dir, "bravo", store);
  store.inject({ op: "delete", action: "fail", times: 100 });
  // Three sizes: same-size writes within one mtime tick look unchanged to push.
  for (const text of ["one\n", "two!\n", "three\n"]) {
    await Deno.writeTextFile(join(a.root, "n.txt"), text);
    await a.pushAll();
  }
  assert.equal((await storedVersions(raw)).length, 3);
  await b.pullAll();
  assert.equal(await Deno.readTextFile(join(b.root, "n.txt")), "three\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("every version a faulty push leaves behind restores completely", async () => {
  const { raw, store, dir } = await setup();
  using a = await openSyncDevice(dir, "alpha", store);
  for (let round = 0; round < 6; round++) {
    await Deno.writeFile(join(a.root, `r${round % 2}.bin`), randomBytes(1_500_000, 50 + round));
    store.inject({ op: "put", action: round % 2 ? "fail" : "drop-after", nth: 1 + round });
    await a.pushAll().catch(() => {});
    store.heal();
  }
  await a.pushAll();
  const restored = await restoreEveryVersion(raw, dir);
  // Superseded versions stay in the journals; each path's head is the file as last pushed.
  const { byPath } = await storeHeads(raw);
  assert.deepEqual([...byPath.keys()].sort(), ["r0.bin", "r1.bin"]);
  for (const [path, { heads }] of byPath) {
    assert.equal(heads.length, 1);
    assert.equal(restored.get(heads[0].key), await fileSha256(join(a.root, path)));
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deleted there, edited here: the pull keeps the edit, and a push that loses its answer still brings it back", async () => {
  const { raw, store, dir } = await setup();
  using a = await openSyncDevice(dir, "alpha", store);
  using b = await openSyncDevice(dir, "bravo", store);
  await Deno.writeTextFile(join(a.root, "keep.txt"), "first\n");
  await a.pushAll();
  await b.pullAll();
  await Deno.remove(join(a.root, "keep.txt"));
  assert.equal((await a.pushAll()).deleted, 1);
  await Deno.writeTextFile(join(b.root, "keep.txt"), "edited after the delete\n");
  const pulled = await b.pullAll();
  assert.deepEqual(pulled.kept_modified, ["tcfs/default/keep.txt"]);
  assert.equal(await Deno.readTextFile(join(b.root, "keep.txt")), "edited after the delete\n");

  store.inject({ op: "putConditional", keyPrefix: VERSIONS, action: "drop-after" });
  await assert.rejects(b.pushAll(), Deno.errors.ConnectionReset);
  const pushed = await b.pushAll();
  assert.deepEqual(pushed.conflicts, []);
  // Every version stays in the journals: alpha's content ("first\n") and its deletion, now
  // dominated, and bravo's edit, written once though its answer was lost.
  const kinds = (await storedVersions(raw)).map((v) => v.version.kind).sort();
  assert.deepEqual(kinds, ["deleted", "file", "file"]);
  await a.pullAll();
  assert.equal(await Deno.readTextFile(join(a.root, "keep.txt")), "edited after the delete\n");
  await Deno.remove(dir, { recursive: true });
});
