/**
 * The daemon's mounts (`[mount] mounts`): mounted at start, shown by /v1/mounts and
 * /v1/status, unmounted at SIGTERM, a mount left by a killed daemon cleared at the next start, and
 * another device's changes shown at once when NATS announces them.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type DaemonDevice, makeDaemonDevice, seaweedEnv, waitFor } from "./daemon_device.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";
import { startNatsServer } from "../support/nats_process.ts";
import { startMount } from "../support/tcfs_mount.ts";

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

/** Pushes `docs/a.txt` holding `text` from `device`, for its mounts to show. */
async function pushDocs(device: DaemonDevice, text: string): Promise<void> {
  const src = join(device.home, "docs");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "a.txt"), text);
  const pushed = await device.tcfs(["push", src, "--json"]);
  assert.equal((JSON.parse(pushed.stdout) as PushSummary).files, 1, pushed.stderr);
}

Deno.test("daemon: mounts what [mount] mounts lists, reports it, and unmounts at SIGTERM or the next start", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-daemon-mounts-" });
  const a = await makeDaemonDevice(tmp, "devA", seaweedEnv("daemon-mounts"));
  await pushDocs(a, "through the daemon's mount\n");
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

Deno.test("daemon: a change another device announces over NATS shows in the mount within seconds, with polling off", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-daemon-mount-events-" });
  await using nats = await startNatsServer();
  // An hour between polls: only the event can bring the change in time.
  const env = {
    ...seaweedEnv("mount-events"),
    TCFS_NATS_URL: nats.url,
    TCFS_POLL_INTERVAL_SECS: "3600",
  };
  const a = await makeDaemonDevice(tmp, "devA", env);
  const b = await makeDaemonDevice(tmp, "devB", env);
  const mnt = join(tmp, "mnt");
  await Deno.mkdir(mnt);
  await Deno.writeTextFile(join(b.root, "note.txt"), "first version\n");
  const pushed = await b.tcfs(["push", b.root, "--json"]);
  assert.equal((JSON.parse(pushed.stdout) as PushSummary).files, 1, pushed.stderr);
  await a.writeConfig(`[mount]\nmounts = ["${mnt}"]\n`);
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  const shows = async (rel: string, text: string) =>
    await Deno.readTextFile(join(mnt, rel)).then((t) => t === text, () => false);
  try {
    await startWithMounts(a, 1);
    assert.ok(await shows("note.txt", "first version\n"));
    await b.start();
    await waitFor(
      async () =>
        (await a.status()).nats.state === "connected" &&
        (await b.status()).nats.state === "connected",
      30_000,
      logs,
    );

    // A new file, and new content of a file A's kernel already cached.
    await Deno.writeTextFile(join(b.root, "added.txt"), "made on B\n");
    await Deno.writeTextFile(join(b.root, "note.txt"), "second version, longer\n");
    const started = Date.now();
    await waitFor(
      async () =>
        await shows("added.txt", "made on B\n") &&
        await shows("note.txt", "second version, longer\n"),
      20_000,
      async () => `A's mount did not show B's changes:\n${await logs()}`,
    );
    console.log(
      `B's changes showed in A's mount ${Date.now() - started} ms after they were written`,
    );
  } finally {
    if (a.running) await a.stop("SIGTERM");
    if (b.running) await b.stop("SIGTERM");
    if (mounted(mnt)) await a.tcfs(["unmount", "--lazy", mnt]);
  }
  assert.ok(!mounted(mnt));
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("daemon: a configured mount that fails at start is tried again until it mounts", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-daemon-mount-retry-" });
  const a = await makeDaemonDevice(tmp, "devA", {
    ...seaweedEnv("daemon-mount-retry"),
    TCFS_POLL_INTERVAL_SECS: "1",
  });
  await pushDocs(a, "mounted at last\n");
  const later = join(tmp, "not-yet");
  await a.writeConfig(`[mount]\nmounts = ["${later}"]\n`);
  try {
    await a.start();
    await waitFor(
      async () => /could not mount .*not-yet \(tried again/.test(await a.log()),
      30_000,
      async () => `no mount failure logged:\n${await a.log()}`,
    );
    assert.equal((await a.status()).mounts.length, 0);
    await Deno.mkdir(later);
    await waitFor(
      async () => (await a.status()).mounts.length === 1,
      30_000,
      async () => `the mount was not tried again:\n${await a.log()}`,
    );
    assert.equal(await Deno.readTextFile(join(later, "docs/a.txt")), "mounted at last\n");
    assert.equal((await a.log()).match(/could not mount/g)?.length, 1, "the failure is said once");
  } finally {
    if (a.running) await a.stop("SIGTERM");
    if (mounted(later)) await a.tcfs(["unmount", "--lazy", later]);
  }
  assert.ok(!mounted(later));
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("daemon: a mount's write over a version it has not seen is listed by /v1/conflicts and resolved through the daemon", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-daemon-mount-conflict-" });
  // An hour between polls: the mount keeps showing the version its edit is made on.
  const env = { ...seaweedEnv("daemon-mount-conflict"), TCFS_POLL_INTERVAL_SECS: "3600" };
  const a = await makeDaemonDevice(tmp, "devA", env);
  const b = await makeDaemonDevice(tmp, "devB", env);
  await pushDocs(b, "first\n");
  const mnt = join(tmp, "mnt");
  await Deno.mkdir(mnt);
  await a.writeConfig(`[mount]\nmounts = ["${mnt}"]\n`);
  try {
    await startWithMounts(a, 1);
    assert.equal(await Deno.readTextFile(join(mnt, "docs/a.txt")), "first\n");
    await Deno.writeTextFile(join(b.home, "docs/a.txt"), "second, from B\n");
    await b.tcfs(["push", join(b.home, "docs")]);
    await Deno.writeTextFile(join(mnt, "docs/a.txt"), "second, from A's mount\n");

    using client = createControlClient(a.socket);
    const { conflicts } = await client.conflicts();
    assert.equal(conflicts.length, 1, await a.log());
    const [kept] = conflicts;
    assert.equal(kept.detected_by, "mount");
    assert.ok(kept.local_path);
    assert.match(kept.path, /^docs\/a\.conflict-devA-\d{8}-\d{6}\.txt$/);
    assert.equal(await Deno.readTextFile(kept.local_path), "second, from A's mount\n");
    assert.equal(await Deno.readTextFile(join(mnt, "docs/a.txt")), "second, from B\n");

    // The CLI hands the resolution to the running daemon.
    const resolved = await a.tcfs(["resolve-conflict", kept.local_path, "--keep-local", "--json"]);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.deepEqual((await client.conflicts()).conflicts, []);
  } finally {
    if (a.running) await a.stop("SIGTERM");
    if (mounted(mnt)) await a.tcfs(["unmount", "--lazy", mnt]);
  }
  const check = join(tmp, "check");
  await b.tcfs(["pull", `${a.env.TCFS_S3_BUCKET}/${a.env.TCFS_NAMESPACE}/docs`, check]);
  assert.equal(await Deno.readTextFile(join(check, "a.txt")), "second, from A's mount\n");
  assert.deepEqual(await Array.fromAsync(Deno.readDir(check), (e) => e.name), ["a.txt"]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("tcfs mount run on its own shows a change another device announces over NATS, with polling off", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-mount-hints-" });
  await using nats = await startNatsServer();
  const env = {
    ...seaweedEnv("mount-hints"),
    TCFS_NATS_URL: nats.url,
    TCFS_POLL_INTERVAL_SECS: "3600",
  };
  const a = await makeDaemonDevice(tmp, "devA", env);
  const b = await makeDaemonDevice(tmp, "devB", env);
  await Deno.writeTextFile(join(b.root, "note.txt"), "first version\n");
  await b.tcfs(["push", b.root]);
  const mount = await startMount(a, tmp);
  const shows = (text: string) =>
    Deno.readTextFile(join(mount.mountpoint, "note.txt")).then((t) => t === text, () => false);
  try {
    assert.ok(await shows("first version\n"));
    await b.start();
    await waitFor(async () => (await b.status()).nats.state === "connected", 30_000, b.log);
    await Deno.writeTextFile(join(b.root, "note.txt"), "second version, longer\n");
    await waitFor(
      () => shows("second version, longer\n"),
      20_000,
      async () => `the mount did not show B's change:\n${mount.stderr()}\nB:\n${await b.log()}`,
    );
  } finally {
    if (b.running) await b.stop("SIGTERM");
    await mount.unmount();
  }
  assert.doesNotMatch(mount.stderr(), /no change events/);
  await Deno.remove(tmp, { recursive: true });
});
