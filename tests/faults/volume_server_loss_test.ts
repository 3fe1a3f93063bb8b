import assert from "node:assert/strict";
import { join } from "node:path";
import { cliResult, makeDeviceHome } from "../support/device_home.ts";
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
  const env = {
    TCFS_S3_ENDPOINT: cluster.endpoint,
    TCFS_S3_ACCESS: cluster.access,
    TCFS_S3_SECRET: cluster.secret,
    TCFS_S3_BUCKET: cluster.bucket,
  };
  const a = await makeDeviceHome(tmp.path, "devA", env);
  const b = await makeDeviceHome(tmp.path, "devB", env);
  const src = join(a.home, "lab");
  await Deno.mkdir(src);
  for (let i = 0; i < FILES; i++) {
    await writeRandomFile(join(src, `run-${i}.bin`), FILE_BYTES, 1000 + i);
  }

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
  if (first.code !== 0) {
    assert.equal(first.code, 1, `push exited ${first.code}\n${first.stderr}`);
    assert.match(first.stderr, /S3 at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(first.stderr, /hint:/);
    assert.doesNotMatch(first.stderr, /at .*\.ts:\d+:\d+/, "one message, no stack trace");
  }

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
