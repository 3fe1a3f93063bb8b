import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import { push } from "../../../core/sync/push.ts";
import { type DeviceRef, pathHeads, type SyncContext } from "../../../core/sync/sync_context.ts";
import { journalPrefix } from "../../../core/remote/remote_keys.ts";
import { listConflicts } from "../../../core/conflicts/conflict_queue.ts";
import { VersionRaceError, writeVersion } from "../../../core/journal/version_batch.ts";
import { freshFleetBucket } from "../../support/fleet_bucket.ts";
import { storeHeads } from "../../support/journal_store.ts";

/**
 * The store, with every journal segment write held until `writers` of them have
 * arrived: each writer has read the path's heads before any version lands.
 */
function versionWritesMeet(store: ObjectStore, writers: number): ObjectStore {
  const arrived = Promise.withResolvers<void>();
  let count = 0;
  const meet = async (key: string) => {
    if (!key.startsWith(journalPrefix("default"))) return;
    if (++count === writers) arrived.resolve();
    await arrived.promise;
  };
  return {
    ...store,
    location: store.location,
    async put(key, body, options) {
      await meet(key);
      return store.put(key, body, options);
    },
    async putConditional(key, body, condition) {
      await meet(key);
      return store.putConditional(key, body, condition);
    },
  };
}

/**
 * Two writers with one device id (two state dbs, as a cloned home has) push
 * different content to one path at the same moment, past any lock.
 */
async function raceTwoWriters(store: ObjectStore) {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-version-race-" });
  const device = { id: crypto.randomUUID(), name: "twin" };
  const met = versionWritesMeet(store, 2);
  const writers = await Promise.all(["one", "two"].map(async (name) => {
    const local = join(dir, name, "notes.txt");
    await Deno.mkdir(join(dir, name));
    await Deno.writeTextFile(local, `written by ${name}\n`);
    const state = await StateDb.open(join(dir, name, "state.db"));
    const ctx: SyncContext = { store: met, state, device, bucket: "tcfs", namespace: "default" };
    return { name, local, state, ctx };
  }));
  try {
    const summaries = await Promise.all(
      writers.map((w) => push(w.ctx, { localPath: w.local, remoteRel: "notes.txt", excludes: [] })),
    );
    const { heads } = (await storeHeads(store)).path("notes.txt");
    const winner = summaries.findIndex((s) => s.files === 1);
    const loser = 1 - winner;
    assert.notEqual(winner, -1, "one writer's version stands");
    assert.deepEqual(summaries[loser].files, 0, "the other wrote no version over it");
    assert.deepEqual(summaries[loser].conflicts, ["tcfs/default/notes.txt"]);
    assert.equal(heads.length, 1);
    assert.equal(heads[0].version.vclock[device.id], 1);
    const queued = listConflicts(writers[loser].state, "default");
    assert.deepEqual(queued.map((c) => c.path), ["notes.txt"], "the loser queued a conflict");
    assert.equal(
      await Deno.readTextFile(writers[loser].local),
      `written by ${writers[loser].name}\n`,
      "and its content is still on disk",
    );
  } finally {
    for (const w of writers) w.state.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("two writers with one device id: the second gets a conflict, not an overwrite (file store)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-version-race-store-" });
  const store = createFsStore(dir);
  try {
    await store.ensureReady();
    await raceTwoWriters(store);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two writers with one device id: the second gets a conflict, not an overwrite (SeaweedFS)", async () => {
  await using store = await freshFleetBucket().openStore();
  await raceTwoWriters(store);
});

Deno.test("coverOnlySeen: a writer that lost its key to an unseen deletion stops instead of covering it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-version-race-" });
  const store = createFsStore(join(dir, "store"));
  await store.ensureReady();
  const device = { id: crypto.randomUUID(), name: "twin" };
  const twin = async (name: string): Promise<SyncContext> => ({
    store,
    state: await StateDb.open(join(dir, `${name}.db`)),
    device,
    bucket: "tcfs",
    namespace: "default",
  });
  const [one, two] = [await twin("one"), await twin("two")];
  const content = {
    kind: "file" as const,
    size: 0,
    mode: 0o644,
    mtime_ms: 0,
    blake3: "0".repeat(64),
    chunks: [],
  };
  const first = await writeVersion(one, "a.txt", { ...content, inline: "" }, {}, {
    path: "a.txt",
    heads: [],
    kept: [],
  });
  const seen = { path: "a.txt", heads: [first], kept: [] };
  // The twin deletes the path at the key `one` is about to take.
  await writeVersion(two, "a.txt", { ...content, kind: "deleted" }, {}, seen);
  await assert.rejects(
    writeVersion(one, "a.txt", { ...content, size: 1 }, {}, seen, { coverOnlySeen: true }),
    VersionRaceError,
  );
  const { heads } = (await storeHeads(store)).path("a.txt");
  assert.deepEqual(heads.map((h) => h.version.kind), ["deleted"]);
  for (const ctx of [one, two]) ctx.state.close();
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a writer whose segment number went to its twin's segment of another path writes on, over what it had seen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-version-race-" });
  const store = createFsStore(join(dir, "store"));
  await store.ensureReady();
  const context = async (name: string, device: DeviceRef): Promise<SyncContext> => ({
    store,
    state: await StateDb.open(join(dir, `${name}.db`)),
    device,
    bucket: "tcfs",
    namespace: "default",
  });
  const twin = { id: crypto.randomUUID(), name: "twin" };
  const [one, two] = [await context("one", twin), await context("two", twin)];
  const other = await context("other", { id: crypto.randomUUID(), name: "other" });
  const content = {
    kind: "file" as const,
    size: 0,
    mode: 0o644,
    mtime_ms: 0,
    blake3: "0".repeat(64),
    chunks: [],
    inline: "",
  };
  const none = (path: string) => ({ path, heads: [], kept: [] });
  // Another device's version of a.txt, which `two` reads and means to cover (as a resolution does).
  await writeVersion(other, "a.txt", content, {}, none("a.txt"));
  const seen = await pathHeads(two, "a.txt");
  // Meanwhile `one` takes the next segment number of the shared id, for another path.
  await writeVersion(one, "b.txt", content, {}, none("b.txt"));
  const written = await writeVersion(
    two,
    "a.txt",
    { ...content, size: 1, inline: "AA==" },
    {},
    seen,
  );
  const { heads } = (await storeHeads(store)).path("a.txt");
  assert.deepEqual(heads.map((h) => h.key), [written.key], "one head: two's, over other's");
  for (const ctx of [one, two, other]) ctx.state.close();
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("versions written at once from one state db take turns for segment numbers: none races itself", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-version-turns-" });
  const store = createFsStore(join(dir, "store"));
  await store.ensureReady();
  const state = await StateDb.open(join(dir, "state.db"));
  const device = { id: crypto.randomUUID(), name: "busy" };
  const ctx: SyncContext = { store, state, device, bucket: "tcfs", namespace: "default" };
  const content = {
    kind: "file" as const,
    size: 0,
    mode: 0o644,
    mtime_ms: 0,
    blake3: "0".repeat(64),
    chunks: [],
    inline: "",
  };
  const paths = Array.from({ length: 20 }, (_, i) => `file-${i}.txt`);
  try {
    // As the daemon's single-path pushes do: each its own batch, all flushed together.
    const written = await Promise.allSettled(
      paths.map((path) => writeVersion(ctx, path, content, {}, { path, heads: [], kept: [] })),
    );
    const refused = written.flatMap((w) => w.status === "rejected" ? [String(w.reason)] : []);
    assert.deepEqual(refused, []);
    const heads = await storeHeads(store);
    for (const path of paths) assert.equal(heads.path(path).heads.length, 1, path);
  } finally {
    state.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
