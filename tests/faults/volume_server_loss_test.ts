import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CliResult,
  cliResult,
  type DeviceHome,
  makeDeviceHome,
} from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { type SeaweedFSCluster, startSeaweedFSCluster } from "../support/seaweedfs_cluster.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { snapshotTree } from "../support/tree_compare.ts";
import { createS3Store } from "../../core/store/s3_store.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { CheckReport } from "../../cli/commands/check_command.ts";
import { restoreEveryVersion } from "./store_audit.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const FILES = 12;
const FILE_BYTES = 4_000_000;

function storeOf(cluster: SeaweedFSCluster) {
  return createS3Store({
    endpoint: cluster.endpoint,
    bucket: cluster.bucket,
    region: "us-east-1",
    credentials: { accessKeyId: cluster.access, secretAccessKey: cluster.secret },
  });
}

/** Devices A and B, each its own home under `parent`, on the cluster's bucket. */
async function devicesOn(cluster: SeaweedFSCluster, parent: string): Promise<DeviceHome[]> {
  const env = {
    TCFS_S3_ENDPOINT: cluster.endpoint,
    TCFS_S3_ACCESS: cluster.access,
    TCFS_S3_SECRET: cluster.secret,
    TCFS_S3_BUCKET: cluster.bucket,
  };
  return [await makeDeviceHome(parent, "devA", env), await makeDeviceHome(parent, "devB", env)];
}

/**
 * Writes `files` random files of FILE_BYTES, from `seed` on, into `device`'s `lab` folder;
 * returns the folder.
 */
async function writeLab(device: DeviceHome, files: number, seed = 1000): Promise<string> {
  const src = join(device.home, "lab");
  await Deno.mkdir(src, { recursive: true });
  for (let i = 0; i < files; i++) {
    await writeRandomFile(join(src, `run-${i}.bin`), FILE_BYTES, seed + i);
  }
  return src;
}

/** A push that failed as the store failed: exit 1, one message naming S3, a hint, no trace. */
function assertClearStoreFailure(result: CliResult): void {
  assert.equal(result.code, 1, `push exited ${result.code}\n${result.stderr}`);
  assert.match(result.stderr, /S3 at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(result.stderr, /hint:/);
  assert.doesNotMatch(result.stderr, /at .*\.ts:\d+:\d+/, "one message, no stack trace");
}

/** The key of the first pack to land, polled for until the push stores one. */
async function firstPack(cluster: SeaweedFSCluster): Promise<string> {
  const store = storeOf(cluster);
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      for await (const { key } of store.list("packs/")) return key;
      assert.ok(Date.now() < deadline, "the push never stored a pack");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    store.close();
  }
}

Deno.test("a volume server killed mid-push: the push completes or fails clearly, the next completes, and nothing is missing", async () => {
  await using cluster = await startSeaweedFSCluster({ volumeServers: 3, replication: "001" });
  const tmp = await makeScopedTempDir("tcfs-volume-loss-");
  const [a, b] = await devicesOn(cluster, tmp.path);
  const src = await writeLab(a, FILES);

  const pushing = new Deno.Command(join(REPO, "scripts/tcfs"), {
    args: ["push", src],
    env: a.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let pushDone = false;
  pushing.status.then(() => pushDone = true);
  const pack = await firstPack(cluster);
  const [holder] = await cluster.volumeServersHolding(pack);
  assert.notEqual(holder, undefined, `no volume server holds ${pack}`);
  await cluster.killVolumeServer(holder);
  assert.ok(!pushDone, "the push ended before the volume server was killed: give it more bytes");
  const first = cliResult(await pushing.output());
  if (first.code !== 0) assertClearStoreFailure(first);

  // With 001, the two servers left hold a copy of every volume and take new ones.
  const again = await a.tcfsJson<PushSummary>(["push", src]);
  assert.equal(again.files + again.unchanged, FILES);
  const whileDown = await b.tcfsJson<CheckReport>(["check", "--read-data"], { allowCodes: [1] });
  assert.deepEqual(whileDown.problems, [], await cluster.logTails());
  const pulled = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/lab", join(b.home, "lab")]);
  assert.equal(pulled.files, FILES);
  assert.deepEqual(await snapshotTree(join(b.home, "lab")), await snapshotTree(src));

  await cluster.restartVolumeServer(holder);
  const afterRestart = await b.tcfsJson<CheckReport>(["check", "--read-data"]);
  assert.deepEqual(afterRestart.problems, []);
  // Every version either push wrote, not only the heads, restores byte for byte.
  const store = storeOf(cluster);
  try {
    const restored = await restoreEveryVersion(store, tmp.path);
    assert.ok(restored.size >= FILES);
  } finally {
    store.close();
  }
  await tmp.remove();
});

Deno.test("two volume servers with 001, one down: the push fails clearly within minutes, not five, and completes once it is back", async () => {
  await using cluster = await startSeaweedFSCluster({ volumeServers: 2, replication: "001" });
  const tmp = await makeScopedTempDir("tcfs-volume-loss-");
  const [a, b] = await devicesOn(cluster, tmp.path);
  const src = await writeLab(a, 1);
  await a.tcfsJson<PushSummary>(["push", src]);
  // All new content: no version can be written until a pack lands.
  await writeLab(a, 3, 2000);

  // No second live server for a new volume's copy: SeaweedFS answers each upload with a 500
  // after 30 s. Five tries of that, for the installation record and then for the packs, held a
  // push for five minutes before it failed; the retry budget stops each after a minute.
  await cluster.killVolumeServer(1);
  const started = Date.now();
  const failed = await a.tcfs(["push", src]);
  const seconds = (Date.now() - started) / 1000;
  assertClearStoreFailure(failed);
  assert.match(failed.stderr, /500 InternalError.*gave up after \d attempts? in \d+\.\d s/);
  assert.ok(seconds < 150, `the push took ${seconds} s to fail`);

  await cluster.restartVolumeServer(1);
  const again = await a.tcfsJson<PushSummary>(["push", src]);
  assert.equal(again.files + again.unchanged, 3);
  assert.deepEqual((await b.tcfsJson<CheckReport>(["check", "--read-data"])).problems, []);
  const pulled = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/lab", join(b.home, "lab")]);
  assert.equal(pulled.files, 3);
  assert.deepEqual(await snapshotTree(join(b.home, "lab")), await snapshotTree(src));
  await tmp.remove();
});
