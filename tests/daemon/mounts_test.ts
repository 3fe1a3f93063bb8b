/**
 * The daemon's mounts (`[mount] mounts`): mounted at start, shown by /v1/mounts and
 * /v1/status, unmounted at SIGTERM, and a mount left by a killed daemon cleared at the next start.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type DaemonDevice, makeDaemonDevice, seaweedEnv, waitFor } from "./daemon_device.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";

function mounted(mountpoint: string): boolean {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").some((line) =>
    line.split(" ")[4] === mountpoint
  );
}

/** Starts the daemon and waits until it serves `count` mounts (it mounts once it serves). */
async function startWithMounts(device: DaemonDevice, count: number): Promise<void> {
  await device.start();
  await waitFor(
    async () => (await device.status()).mounts.length === count,
    30_000,
    async () => `the daemon did not mount:\n${await device.log()}`,
  );
}

Deno.test("daemon: mounts what [mount] mounts lists, reports it, and unmounts at SIGTERM or the next start", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-daemon-mounts-" });
  const a = await makeDaemonDevice(tmp, "devA", seaweedEnv("daemon-mounts"));
  const src = join(a.home, "docs");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "a.txt"), "through the daemon's mount\n");
  const pushed = await a.tcfs(["push", src, "--json"]);
  assert.equal((JSON.parse(pushed.stdout) as PushSummary).files, 1, pushed.stderr);
  const whole = join(tmp, "whole");
  const docs = join(tmp, "docs-only");
  await Deno.mkdir(whole);
  await Deno.mkdir(docs);
  const remote = `${a.env.TCFS_S3_BUCKET}/${a.env.TCFS_NAMESPACE}/docs`;
  await a.writeConfig(`[mount]\nmounts = ["${whole}", "${docs}=${remote}"]\n`);
  try {
    await startWithMounts(a, 2);
    assert.equal(
      await Deno.readTextFile(join(whole, "docs/a.txt")),
      "through the daemon's mount\n",
    );
    assert.equal(await Deno.readTextFile(join(docs, "a.txt")), "through the daemon's mount\n");
    const status = await a.status();
    assert.deepEqual(status.mounts.map((m) => m.mountpoint).sort(), [docs, whole]);
    using client = createControlClient(a.socket);
    const listed = await client.mounts();
    const shown = listed.find((m) => m.mountpoint === docs)!;
    assert.equal(shown.remote, remote);
    assert.equal(shown.files, 1);
    assert.ok(shown.cache_bytes > 0);
    const text = await a.tcfs(["status"]);
    assert.match(text.stdout, new RegExp(`mount +${remote} at ${docs}: 1 files`));

    const stopped = await a.stop("SIGTERM");
    assert.equal(stopped.code, 0);
    assert.ok(!mounted(whole) && !mounted(docs), "SIGTERM leaves nothing mounted");

    await startWithMounts(a, 2);
    assert.ok(mounted(docs));
    await a.stop("SIGKILL");
    assert.ok(mounted(docs), "a killed daemon leaves its mounts behind");
    await startWithMounts(a, 2);
    assert.equal(await Deno.readTextFile(join(docs, "a.txt")), "through the daemon's mount\n");
    assert.match(await a.log(), /was still mounted: unmounting it first/);
  } finally {
    if (a.running) await a.stop("SIGTERM");
    for (const dir of [whole, docs]) {
      if (mounted(dir)) await a.tcfs(["unmount", "--lazy", dir]);
    }
  }
  assert.ok(!mounted(whole) && !mounted(docs));
  await Deno.remove(tmp, { recursive: true });
});
