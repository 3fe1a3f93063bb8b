import assert from "node:assert/strict";
import { join } from "node:path";
import { cliResult, type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { makeDaemonDevice } from "../daemon/daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { freshFleetBucket } from "../support/fleet_bucket.ts";
import { createFsStore } from "../../core/store/fs_store.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { StateDb } from "../../core/state/state_db.ts";
import { storeHeads } from "../support/journal_store.ts";
import { digestLocalFile } from "../../core/sync/local_digest.ts";
import { listConflicts } from "../../core/conflicts/conflict_queue.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";

/**
 * Three `tcfs push` runs at once from one device home, of different content to one path: every
 * run that says it pushed has a version of its own (the head's counter counts them), and the
 * content of any other run is still on disk, queued as a conflict if it met one.
 */
async function concurrentPushes(
  device: DeviceHome,
  store: ObjectStore,
  bucket = "tcfs",
): Promise<void> {
  const files = ["one", "two", "three"].map((name) => join(device.home, `${name}.bin`));
  // Several MiB each: the runs overlap between reading the heads and writing a version.
  await Promise.all(files.map((f, i) => writeRandomFile(f, 8 * 1024 * 1024, i + 1)));
  const runs = await Promise.all(
    files.map((f) => device.tcfs(["push", "--json", f, `${bucket}/default/shared.bin`])),
  );
  const summaries = runs.map((run) => {
    assert.ok([0, 3].includes(run.code), `push exited ${run.code}: ${run.stdout}${run.stderr}`);
    return JSON.parse(run.stdout) as PushSummary;
  });
  const pushed = summaries.filter((s) => s.files === 1).length;
  assert.ok(pushed >= 1, "at least one run pushed");
  const state = await StateDb.open(join(device.home, ".local/state/tcfs/state.db"));
  try {
    const { heads } = (await storeHeads(store)).path("shared.bin");
    assert.equal(heads.length, 1, "one head: nothing concurrent was left behind");
    const [head] = heads;
    assert.equal(
      head.version.vclock[head.version.author],
      pushed,
      "every run that said it pushed wrote a version of its own",
    );
    const hashes = await Promise.all(files.map((file) => digestLocalFile(file)));
    assert.ok(hashes.includes(head.version.blake3), "the head is one of the contents");
    if (pushed === 1) {
      assert.deepEqual(
        listConflicts(state).map((c) => c.path),
        ["shared.bin"],
        "the other runs queued their content as a conflict",
      );
    }
  } finally {
    state.close();
  }
}

Deno.test("pushes at once from one device home: none overwrites the other (file store)", async () => {
  const tmp = await makeScopedTempDir("tcfs-one-writer-");
  try {
    const storeDir = join(tmp.path, "store");
    const device = await makeDeviceHome(tmp.path, "devA", {
      TCFS_S3_ENDPOINT: `file://${storeDir}`,
    });
    const store = createFsStore(storeDir);
    try {
      await concurrentPushes(device, store);
    } finally {
      store.close();
    }
  } finally {
    await tmp.remove();
  }
});

Deno.test("pushes at once from one device home: none overwrites the other (SeaweedFS)", async () => {
  const tmp = await makeScopedTempDir("tcfs-one-writer-s3-");
  const fleet = freshFleetBucket();
  try {
    const device = await makeDeviceHome(tmp.path, "devA", fleet.env);
    await using store = await fleet.openStore();
    await concurrentPushes(device, store, fleet.bucket);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a daemon serving another device and store on the socket does not take this device's push", async () => {
  const tmp = await makeScopedTempDir("tcfs-foreign-daemon-");
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store-a`,
  });
  await a.start();
  try {
    // devB's own home and store, but A's daemon answers on the socket it uses.
    const b = await makeDeviceHome(tmp.path, "devB", {
      TCFS_S3_ENDPOINT: `file://${tmp.path}/store-b`,
      TCFS_SOCKET: a.socket,
    });
    const file = join(b.home, "f.txt");
    await Deno.writeTextFile(file, "devB's own file\n");
    const pushed = await b.tcfs(["push", "--json", file, "tcfs/default/f.txt"]);
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    assert.equal((JSON.parse(pushed.stdout) as PushSummary).files, 1);
    assert.match(
      pushed.stderr,
      new RegExp(`the daemon on ${a.socket} serves device devA .*working without it`),
    );
    const storeA = createFsStore(join(tmp.path, "store-a"));
    const storeB = createFsStore(join(tmp.path, "store-b"));
    try {
      const inB = (await storeHeads(storeB)).path("f.txt");
      assert.deepEqual(inB.heads.map((h) => h.version.author_name), ["devB"], "in its own store");
      const inA = (await storeHeads(storeA)).path("f.txt");
      assert.deepEqual(inA.heads, [], "and nothing in devA's");
    } finally {
      storeA.close();
      storeB.close();
    }

    // The same device pointed at another store: its daemon holds the state, so it stops.
    const other = await a.tcfs(["push", "--json", file, "tcfs/default/f.txt"], {
      TCFS_S3_ENDPOINT: `file://${tmp.path}/store-c`,
    });
    assert.equal(other.code, 1, other.stdout + other.stderr);
    const failure = JSON.parse(other.stdout);
    assert.equal(failure.error.kind, "state_locked");
    assert.match(failure.error.message, /holds this device's state but serves store .*store-a/);
  } finally {
    await a.stop();
    await tmp.remove();
  }
});

Deno.test("a second daemon for the same device state, on another socket, waits and then refuses", async () => {
  const tmp = await makeScopedTempDir("tcfs-second-daemon-");
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  await a.start();
  try {
    // Before the lock it started, and the two wrote one device's state side by side.
    const child = new Deno.Command(new URL("../../scripts/tcfs", import.meta.url).pathname, {
      args: ["daemon"],
      env: { ...a.env, TCFS_SOCKET: join(tmp.path, "second.sock"), TCFS_LOCK_TIMEOUT_SECS: "1" },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const second = cliResult(await child.output());
    clearTimeout(killer);
    assert.equal(second.code, 1, second.stderr);
    assert.match(
      second.stderr,
      /waiting for daemon \(pid \d+\) to finish with this device's state/,
    );
    assert.match(second.stderr, /this device's state is in use by daemon \(pid \d+\)/);
    assert.ok(a.running, "the first daemon runs on");
  } finally {
    await a.stop();
    await tmp.remove();
  }
});
