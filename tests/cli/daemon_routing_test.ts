import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice, waitFor } from "../daemon/daemon_device.ts";
import { makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import type { LocalStatusJson, RunningStatusJson } from "../../cli/commands/status_command.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { PathStatus } from "../../core/sync/sync_status.ts";
import type { ActivityLine } from "../../daemon/api/api_types.ts";

function publishedPaths(lines: ActivityLine[]): string[] {
  return lines.flatMap((l) =>
    l.kind === "state_event" && l.direction === "published" && l.event.type === "file_synced"
      ? [l.event.path!]
      : []
  );
}

Deno.test("tcfs status without a daemon says so, shows the local setup, and exits 4", async () => {
  const tmp = await makeScopedTempDir("tcfs-cli-status-");
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  try {
    const text = await a.tcfs(["status"]);
    assert.equal(text.code, 4);
    assert.match(
      text.stdout,
      new RegExp(`tcfs daemon: not running \\(nothing answers on ${a.socket}\\)`),
    );
    assert.match(text.stdout, new RegExp(`storage +file://${tmp.path}/store bucket tcfs`));
    assert.match(text.stdout, /sync root +.*devA\/Sync/);
    const json = await a.tcfs(["status", "--json"]);
    assert.equal(json.code, 4);
    const local = JSON.parse(json.stdout) as LocalStatusJson;
    assert.equal(local.daemon, "not_running");
    assert.equal(local.socket, a.socket);
    assert.equal(local.sync.sync_root, a.root);
    assert.deepEqual(local.nats, {});
  } finally {
    await tmp.remove();
  }
});

Deno.test("with a daemon running, status, push, pull and sync-status go through it", async () => {
  const tmp = await makeScopedTempDir("tcfs-cli-routing-");
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  await a.start();
  const activity = await a.recordEvents();
  try {
    const status = await a.tcfs(["status"]);
    assert.equal(status.code, 0, status.stderr);
    for (
      const field of [
        "device +devA",
        "storage .* reachable",
        "nats +disabled",
        "conflicts +mode interactive, 0 pending",
        "sync root .*watching",
        `socket +${a.socket}`,
        "metrics +http://127\\.0\\.0\\.1:\\d+/metrics",
        "credentials +none",
      ]
    ) {
      assert.match(status.stdout, new RegExp(field), field);
    }
    const json = JSON.parse((await a.tcfs(["status", "--json"])).stdout) as RunningStatusJson;
    assert.equal(json.daemon, "running");
    assert.equal(json.device.name, "devA");
    assert.equal(json.sync.roots[0].path, a.root);

    // A file outside the sync root, pushed by hand: the daemon does it and announces it.
    const outside = join(tmp.path, "outside.txt");
    await Deno.writeTextFile(outside, "pushed through the daemon\n");
    const pushed = await a.tcfs(["push", "--json", outside, "tcfs/default/by-hand.txt"]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal((JSON.parse(pushed.stdout) as PushSummary).files, 1);
    assert.deepEqual(publishedPaths(activity.lines), ["by-hand.txt"]);

    const pulledTo = join(tmp.path, "pulled.txt");
    const pulled = await a.tcfs(["pull", "--json", "tcfs/default/by-hand.txt", pulledTo]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal((JSON.parse(pulled.stdout) as PullSummary).files, 1);
    assert.equal(await Deno.readTextFile(pulledTo), "pushed through the daemon\n");

    const syncStatus = await a.tcfs(["sync-status"]);
    assert.equal(syncStatus.code, 0, syncStatus.stderr);
    assert.match(syncStatus.stdout, /^daemon: running; NATS disabled, 0 events in the outbox/);
    await Deno.writeTextFile(join(a.root, "in-root.txt"), "synced by the daemon\n");
    await waitFor(
      () => publishedPaths(activity.lines).includes("in-root.txt"),
      10_000,
      () => a.log(),
    );
    const rows = JSON.parse((await a.tcfs(["sync-status", "--json"])).stdout) as PathStatus[];
    assert.deepEqual(rows.find((r) => r.path === "in-root.txt")?.state, "synced");

    // TCFS_NO_DAEMON makes the command work on its own, which needs the device's state: the
    // daemon holds it, so the command waits, then names the daemon, and nothing is written.
    await Deno.writeTextFile(outside, "pushed without the daemon\n");
    const alone = await a.tcfs(["push", "--json", outside, "tcfs/default/alone.txt"], {
      TCFS_NO_DAEMON: "1",
      TCFS_LOCK_TIMEOUT_SECS: "1",
    });
    assert.equal(alone.code, 1, alone.stderr);
    assert.match(alone.stderr, /waiting up to 1 s for daemon \(pid \d+\)/);
    const failure = JSON.parse(alone.stdout);
    assert.equal(failure.error.kind, "state_locked");
    assert.match(failure.error.message, /this device's state is in use by daemon \(pid \d+\)/);
    assert.deepEqual(publishedPaths(activity.lines), ["by-hand.txt", "in-root.txt"]);
  } finally {
    await activity.stop();
    await a.stop();
    await tmp.remove();
  }
});

Deno.test("resolve-conflict goes through the daemon that serves this device", async () => {
  const tmp = await makeScopedTempDir("tcfs-cli-routing-resolve-");
  const store = { TCFS_S3_ENDPOINT: `file://${tmp.path}/store` };
  const a = await makeDaemonDevice(tmp.path, "devA", { ...store, TCFS_CONFLICT_MODE: "defer" });
  const b = await makeDeviceHome(tmp.path, "devB", store);
  const notes = join(a.root, "notes.txt");
  const theirs = join(b.home, "notes.txt");
  await Deno.writeTextFile(notes, "first\n");
  assert.equal((await a.tcfs(["push", notes])).code, 0);
  assert.equal((await b.tcfs(["pull", "tcfs/default/notes.txt", theirs])).code, 0);
  await Deno.writeTextFile(theirs, "devB's edit\n");
  assert.equal((await b.tcfs(["push", theirs, "tcfs/default/notes.txt"])).code, 0);
  await Deno.writeTextFile(notes, "devA's edit\n");
  assert.equal((await a.tcfs(["push", notes])).code, 3, "a conflict");

  await a.start();
  const activity = await a.recordEvents();
  try {
    const resolved = await a.tcfs(["resolve-conflict", "--json", notes, "--keep-local"]);
    assert.equal(resolved.code, 0, resolved.stdout + resolved.stderr);
    assert.ok(
      activity.lines.some((l) =>
        l.kind === "state_event" && l.direction === "published" &&
        l.event.type === "conflict_resolved" && l.event.path === "notes.txt"
      ),
      "the daemon resolved it and announced it",
    );
    assert.equal((await b.tcfs(["pull", "tcfs/default/notes.txt", theirs])).code, 0);
    assert.equal(await Deno.readTextFile(theirs), "devA's edit\n");
  } finally {
    await activity.stop();
    await a.stop();
    await tmp.remove();
  }
});

Deno.test("a pull through the daemon goes through no link inside the sync root: docs -> outside lands nothing outside", async () => {
  const tmp = await makeScopedTempDir("tcfs-cli-routing-link-");
  const store = { TCFS_S3_ENDPOINT: `file://${tmp.path}/store` };
  const b = await makeDeviceHome(tmp.path, "devB", store);
  await Deno.mkdir(join(b.home, "docs"));
  await Deno.writeTextFile(join(b.home, "docs", "authorized_keys"), "ssh-ed25519 attacker\n");
  await b.tcfsJson<PushSummary>(["push", join(b.home, "docs"), "tcfs/default/docs"]);
  // Links skipped, so that the daemon's own loop does not push the planted one.
  const a = await makeDaemonDevice(tmp.path, "devA", { ...store, TCFS_SYNC_LINKS: "skip" });
  const outside = join(tmp.path, "dot-ssh");
  await Deno.mkdir(outside);
  await Deno.symlink(outside, join(a.root, "docs"));
  await a.start();
  try {
    const result = await a.tcfs(["pull", "--json", "tcfs/default/docs/authorized_keys"]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const summary = JSON.parse(result.stdout) as PullSummary;
    assert.deepEqual(summary.failures.map((f) => f.path), ["docs/authorized_keys"]);
    assert.deepEqual([...Deno.readDirSync(outside)], []);
  } finally {
    await a.stop();
    await tmp.remove();
  }
});
