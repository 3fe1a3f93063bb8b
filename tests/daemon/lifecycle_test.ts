import assert from "node:assert/strict";
import { join } from "node:path";
import {
  makeDaemonDevice,
  readIfExists,
  seaweedEnv,
  tempLeftovers,
  waitFor,
} from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { startNatsServer } from "../support/nats_process.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { startNotifyReceiver } from "../platform/notify_receiver.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import type { RemoteEntry } from "../../core/sync/remote_listing.ts";

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([readIfExists(a), readIfExists(b)]);
  return x !== undefined && y !== undefined && x.length === y.length &&
    x.every((byte, i) => byte === y[i]);
}

Deno.test("SIGTERM in the middle of a big transfer exits 0 within 10 s and leaves no partial file", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-sigterm-");
  await using nats = await startNatsServer();
  const env = {
    ...seaweedEnv("sigterm"),
    TCFS_NATS_URL: nats.url,
    TCFS_POLL_INTERVAL_SECS: "3600",
  };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  await a.start();
  await b.start();
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  const source = join(a.root, "big.bin");
  const target = join(b.root, "big.bin");
  try {
    // The sender: stopped while it reads and uploads the file.
    await writeRandomFile(source, 150 << 20, 3);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const aExit = await a.stop();
    assert.equal(aExit.code, 0, await a.log());
    assert.ok(aExit.elapsedMs < 10_000, `A exited after ${aExit.elapsedMs} ms`);
    assert.deepEqual(await tempLeftovers(a.root), []);
    await a.start(); // its start-up scan pushes whatever did not make it

    // The receiver: stopped while it writes the file.
    await waitFor(
      async () => (await tempLeftovers(b.root)).length > 0,
      60_000,
      async () => `B never started the pull\n${await logs()}`,
    );
    const bExit = await b.stop();
    assert.equal(bExit.code, 0, await b.log());
    assert.ok(bExit.elapsedMs < 10_000, `B exited after ${bExit.elapsedMs} ms`);
    assert.deepEqual(await tempLeftovers(b.root), [], "no partial file left behind");
    const landed = await readIfExists(target);
    assert.ok(
      landed === undefined || await sameBytes(source, target),
      "the file is absent or complete",
    );
    assert.match(await b.log(), /SIGTERM: stopping/);
    console.log(
      `A exited in ${Math.round(aExit.elapsedMs)} ms, B in ${Math.round(bExit.elapsedMs)} ms; B ${
        landed ? "finished" : "dropped"
      } the file in flight`,
    );

    await b.start();
    await waitFor(() => sameBytes(source, target), 60_000, logs);
    assert.deepEqual(await tempLeftovers(b.root), []);
  } finally {
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});

Deno.test("SIGHUP reloads a changed config without a restart: new excludes and poll interval apply", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-sighup-");
  const env = { TCFS_S3_ENDPOINT: `file://${tmp.path}/store` };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  await a.writeConfig(`[sync]\nexclude_patterns = ["*.tmp"]\npoll_interval_secs = 30\n`);
  await a.start();
  const listed = async () => {
    const result = await a.tcfs(["ls", "--json", "tcfs/default/"]);
    return result.code === 0 ? (JSON.parse(result.stdout) as RemoteEntry[]).map((e) => e.path) : [];
  };
  try {
    const pid = (await a.status()).pid;
    await Deno.writeTextFile(join(a.root, "draft.tmp"), "excluded at first\n");
    await Deno.writeTextFile(join(a.root, "kept.txt"), "synced\n");
    await waitFor(async () => (await listed()).includes("kept.txt"), 10_000, () => a.log());
    assert.ok(!(await listed()).includes("draft.tmp"));

    await a.writeConfig(`[sync]\nexclude_patterns = ["*.skip"]\npoll_interval_secs = 7\n`);
    a.signal("SIGHUP");
    await waitFor(
      async () => (await a.status()).sync.poll_interval_secs === 7,
      10_000,
      () => a.log(),
    );
    assert.equal((await a.status()).pid, pid, "the same process");
    // draft.tmp is no longer excluded: the rescan after the reload pushes it.
    await waitFor(async () => (await listed()).includes("draft.tmp"), 10_000, () => a.log());
    await Deno.writeTextFile(join(a.root, "secret.skip"), "now excluded\n");
    await Deno.writeTextFile(join(a.root, "after.txt"), "synced after the reload\n");
    await waitFor(async () => (await listed()).includes("after.txt"), 10_000, () => a.log());
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.ok(!(await listed()).includes("secret.skip"));
    assert.match(await a.log(), /changed: sync\.exclude_patterns, sync\.poll_interval_secs/);

    // The same through the API, which also says what changed.
    await a.writeConfig(`[sync]\nexclude_patterns = ["*.skip"]\npoll_interval_secs = 9\n`);
    using client = createControlClient(a.socket);
    const reloaded = await client.reload();
    assert.deepEqual(reloaded.changed, ["sync.poll_interval_secs"]);
    assert.deepEqual(reloaded.needs_restart, []);
    assert.equal((await a.status()).sync.poll_interval_secs, 9);

    // A broken config is refused and the running one kept.
    await a.writeConfig(`[sync]\npoll_interval_secs = "often"\n`);
    await assert.rejects(client.reload(), /poll_interval_secs/);
    assert.equal((await a.status()).sync.poll_interval_secs, 9);
  } finally {
    await a.stop();
    await tmp.remove();
  }
});

Deno.test("under systemd the daemon sends READY once it serves, watchdog pings, and STOPPING", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-notify-");
  await using notify = await startNotifyReceiver(tmp.path);
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  await a.start({ NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: "400000" });
  try {
    await notify.waitFor("READY=1");
    const ready = notify.messages.find((m) => m.split("\n").includes("READY=1"))!;
    assert.match(ready, new RegExp(`STATUS=serving on ${a.socket}`));
    assert.match(ready, new RegExp(`^MAINPID=${(await a.status()).pid}$`, "m"));
    // Pings every 200 ms; each is relayed by two processes, so a loaded machine delays them.
    await notify.waitFor("WATCHDOG=1", { times: 3 });
    const exit = await a.stop();
    assert.equal(exit.code, 0);
    await notify.waitFor("STOPPING=1");
  } finally {
    if (a.running) await a.stop();
    await tmp.remove();
  }
});
