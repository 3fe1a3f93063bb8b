/**
 * Crash points through the real CLI: a push or pull killed (SIGKILL, as by
 * `kill -9` or a power cut) at each named point of core/runtime/crash_point.ts
 * leaves every version in the store complete and every local file either as
 * it was or complete, and the next run converges with nothing lost.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { createFsStore } from "../../core/store/fs_store.ts";
import type { CrashPoint } from "../../core/runtime/crash_point.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { freshFleetBucket } from "../support/fleet_bucket.ts";
import { randomBytes } from "../support/random_bytes.ts";
import { snapshotTree } from "../support/tree_compare.ts";
import { restoreEveryVersion, storedVersions } from "./store_audit.ts";

/** A killed process exits with 128 + SIGKILL. */
const KILLED = 137;

/** Two CLI devices on one store, and the store opened directly. */
interface Fleet {
  tmp: string;
  a: DeviceHome;
  b: DeviceHome;
  store: ObjectStore;
  remote: string;
  close(): Promise<void>;
}

async function fileFleet(): Promise<Fleet> {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-crash-" });
  const env = { TCFS_S3_ENDPOINT: `file://${tmp}/store`, TCFS_SOCKET: join(tmp, "no-daemon.sock") };
  const store = createFsStore(join(tmp, "store"));
  return {
    tmp,
    a: await makeDeviceHome(tmp, "devA", env),
    b: await makeDeviceHome(tmp, "devB", env),
    store,
    remote: "tcfs/default/docs",
    close: () => Deno.remove(tmp, { recursive: true }),
  };
}

async function seaweedFleet(): Promise<Fleet> {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-crash-s3-" });
  const bucket = freshFleetBucket();
  const env = { ...bucket.env, TCFS_SOCKET: join(tmp, "no-daemon.sock") };
  const store = await bucket.openStore();
  return {
    tmp,
    a: await makeDeviceHome(tmp, "devA", env),
    b: await makeDeviceHome(tmp, "devB", env),
    store,
    remote: `${bucket.bucket}/default/docs`,
    async close() {
      await store[Symbol.asyncDispose]();
      await Deno.remove(tmp, { recursive: true });
    },
  };
}

/** Writes the `docs` folder: two small files and two that go into packs. */
async function writeDocs(home: string, generation: number): Promise<void> {
  const docs = join(home, "docs");
  await Deno.mkdir(join(docs, "sub"), { recursive: true });
  await Deno.writeTextFile(join(docs, "a.txt"), `a, generation ${generation}\n`);
  await Deno.writeTextFile(join(docs, "sub/b.txt"), `b, generation ${generation}\n`);
  await Deno.writeFile(join(docs, "big.bin"), randomBytes(1_500_000, 100 + generation));
  await Deno.writeFile(join(docs, "sub/mid.bin"), randomBytes(200_000, 200 + generation));
}

/** Path → SHA-256 of what a folder holds, leaving out a killed pull's temp files. */
async function contentsOf(dir: string): Promise<Map<string, string>> {
  const snapshot = await snapshotTree(dir);
  return new Map(
    [...snapshot].filter(([rel]) => !rel.includes(".tcfs-tmp-")).map((
      [rel, e],
    ) => [rel, e.content]),
  );
}

async function runKilled(device: DeviceHome, args: string[], point: string): Promise<void> {
  const result = await device.tcfs(args, { env: { TCFS_CRASH_AT: point } });
  assert.equal(
    result.code,
    KILLED,
    `expected a kill at ${point}\n${result.stdout}${result.stderr}`,
  );
}

/** Every version in the store restores completely; returns their digests. */
async function assertStoreReadable(fleet: Fleet): Promise<Set<string>> {
  const scratch = await Deno.makeTempDir({ dir: fleet.tmp });
  return new Set((await restoreEveryVersion(fleet.store, scratch)).values());
}

async function pushCrash(fleet: Fleet, point: CrashPoint | `${CrashPoint}:${number}`) {
  const { a, b, remote } = fleet;
  const docs = join(a.home, "docs");
  await writeDocs(a.home, 1);
  const before = await contentsOf(docs);
  await runKilled(a, ["push", docs, remote], point);
  assert.deepEqual(await contentsOf(docs), before, "a push never changes local files");
  const digests = await assertStoreReadable(fleet);
  for (const digest of digests) {
    assert.ok([...before.values()].includes(digest), "a stored version holds one of the files");
  }
  const versionsAfterCrash = (await storedVersions(fleet.store)).length;

  const again = await a.tcfsJson<PushSummary>(["push", docs, remote]);
  assert.deepEqual(again.conflicts, [], "a device never conflicts with its own version");
  assert.equal(again.files, 4 - versionsAfterCrash);
  assert.equal((await storedVersions(fleet.store)).length, 4);
  await b.tcfsJson<PullSummary>(["pull", remote, join(b.home, "docs")]);
  assert.deepEqual(await contentsOf(join(b.home, "docs")), before);
  return versionsAfterCrash;
}

async function pullCrash(fleet: Fleet, point: CrashPoint) {
  const { a, b, remote } = fleet;
  const docsA = join(a.home, "docs");
  const docsB = join(b.home, "docs");
  await writeDocs(a.home, 1);
  await a.tcfsJson<PushSummary>(["push", docsA, remote]);
  await b.tcfsJson<PullSummary>(["pull", remote, docsB]);
  const old = await contentsOf(docsB);
  await writeDocs(a.home, 2);
  await a.tcfsJson<PushSummary>(["push", docsA, remote]);
  const fresh = await contentsOf(docsA);

  await runKilled(b, ["pull", remote, docsB], point);
  const afterCrash = await contentsOf(docsB);
  assert.deepEqual([...afterCrash.keys()].sort(), [...old.keys()].sort());
  for (const [rel, digest] of afterCrash) {
    assert.ok(
      digest === old.get(rel) || digest === fresh.get(rel),
      `${rel} is neither the old nor the new content`,
    );
  }
  await assertStoreReadable(fleet);

  const again = await b.tcfsJson<PullSummary>(["pull", remote, docsB]);
  assert.deepEqual(again.conflicts, []);
  assert.deepEqual(again.failures, []);
  assert.deepEqual(await contentsOf(docsB), fresh);
  // What B holds is what it synced: its next push must not send anything back.
  const pushed = await b.tcfsJson<PushSummary>(["push", docsB, remote]);
  assert.deepEqual([pushed.files, pushed.conflicts], [0, []]);
  assert.deepEqual(await contentsOf(docsA), fresh);
}

Deno.test("crash after the packs, before the version: no version, and the next push writes all", async () => {
  const fleet = await fileFleet();
  try {
    assert.equal(await pushCrash(fleet, "after-packs"), 0);
  } finally {
    await fleet.close();
  }
});

Deno.test("crash after a version, before the state commit: the next push adopts it without a conflict", async () => {
  const fleet = await fileFleet();
  try {
    // Versions of other files may have landed in the same moment.
    assert.ok(await pushCrash(fleet, "after-version") >= 1);
  } finally {
    await fleet.close();
  }
});

Deno.test("crash after the third version on SeaweedFS: the next push adopts them without a conflict", async () => {
  const fleet = await seaweedFleet();
  try {
    assert.ok(await pushCrash(fleet, "after-version:3") >= 3);
  } finally {
    await fleet.close();
  }
});

Deno.test("crash before a pull's rename: the old files stand, and the next pull completes", async () => {
  const fleet = await fileFleet();
  try {
    await pullCrash(fleet, "before-rename");
  } finally {
    await fleet.close();
  }
});

Deno.test("crash after a pull's rename, before its state commit: the next pull adopts the file", async () => {
  const fleet = await fileFleet();
  try {
    await pullCrash(fleet, "before-state-commit");
  } finally {
    await fleet.close();
  }
});
