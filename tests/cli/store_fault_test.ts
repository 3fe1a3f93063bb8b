import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { type SeaweedFS, startSeaweedFS } from "../support/seaweedfs_process.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { createS3Store } from "../../core/store/s3_store.ts";
import { packKey } from "../../core/remote/remote_keys.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import { storeSegments } from "../support/journal_store.ts";

const REPO = new URL("../../", import.meta.url).pathname;

function s3Store(weed: SeaweedFS) {
  return createS3Store({
    endpoint: weed.endpoint,
    bucket: weed.bucket,
    region: "us-east-1",
    credentials: { accessKeyId: weed.access, secretAccessKey: weed.secret },
  });
}

Deno.test("SeaweedFS stopped mid-push: a clear error, no version naming missing chunks, and the next push completes", async () => {
  await using weed = await startSeaweedFS();
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-fault-" });
  const env = {
    TCFS_S3_ENDPOINT: weed.endpoint,
    TCFS_S3_ACCESS: weed.access,
    TCFS_S3_SECRET: weed.secret,
    TCFS_S3_BUCKET: weed.bucket,
  };
  const a = await makeDeviceHome(tmp, "devA", env);
  const b = await makeDeviceHome(tmp, "devB", env);
  const src = join(a.home, "lab");
  await Deno.mkdir(src);
  for (let i = 0; i < 4; i++) {
    await writeRandomFile(join(src, `run-${i}.bin`), 64_000_000, Math.floor(Math.random() * 1e9));
  }

  const child = new Deno.Command(join(REPO, "scripts/tcfs"), {
    args: ["push", src],
    env: a.env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Mid-push: once the first pack has landed, long before the last one.
  const watcher = s3Store(weed);
  const deadline = Date.now() + 60_000;
  try {
    while ((await Array.fromAsync(watcher.list("packs/"))).length === 0) {
      assert.ok(Date.now() < deadline, "the push never stored a pack");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    watcher.close();
  }
  await weed.stop();
  const failed = await child.output();
  const stderr = new TextDecoder().decode(failed.stderr);
  assert.equal(failed.code, 1, `push should fail once S3 is gone\n${stderr}`);
  assert.match(stderr, /cannot reach S3 at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(stderr, /hint:/);
  assert.doesNotMatch(stderr, /at .*\.ts:\d+:\d+/); // one message, no stack trace

  await weed.restart();
  const store = s3Store(weed);
  try {
    for (const segment of await storeSegments(store)) {
      for (const chunk of segment.versions.flatMap((version) => version.chunks)) {
        const stored = await store.getRange(packKey(chunk.pack!), chunk.offset!, chunk.length!);
        assert.equal(
          stored?.length,
          chunk.length,
          `segment ${segment.seq} of ${segment.device} names missing chunk ${chunk.id}`,
        );
      }
    }
  } finally {
    store.close();
  }

  const again = await a.tcfsJson<PushSummary>(["push", src]);
  assert.equal(again.files + again.unchanged, 4);
  const pulled = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/lab", join(b.home, "lab")]);
  assert.equal(pulled.files, 4);
  for (let i = 0; i < 4; i++) {
    assert.deepEqual(
      await Deno.readFile(join(b.home, "lab", `run-${i}.bin`)),
      await Deno.readFile(join(src, `run-${i}.bin`)),
    );
  }
  await Deno.remove(tmp, { recursive: true });
});
