import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type DaemonDevice,
  makeDaemonDevice,
  readIfExists,
  seaweedEnv,
  syncedSince,
  waitFor,
} from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { type NatsServer, startNatsServer } from "../support/nats_process.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import type { ActivityLine } from "../../daemon/api/api_types.ts";

const text = async (path: string) => new TextDecoder().decode(await readIfExists(path));

/**
 * A and B both hold notes.txt; B's daemon is stopped while both edit it, then started: B meets
 * the conflict at start-up. Polling is slowed to an hour, so only events move things.
 */
async function concurrentEdit(
  tmp: string,
  nats: NatsServer,
  mode: string,
): Promise<{ a: DaemonDevice; b: DaemonDevice; logs: () => Promise<string> }> {
  const env = {
    ...seaweedEnv("conflict"),
    TCFS_NATS_URL: nats.url,
    TCFS_POLL_INTERVAL_SECS: "3600",
    TCFS_CONFLICT_MODE: mode,
  };
  const a = await makeDaemonDevice(tmp, "devA", env);
  const b = await makeDaemonDevice(tmp, "devB", env);
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  await a.start();
  await b.start();
  await Deno.writeTextFile(join(a.root, "notes.txt"), "v1\n");
  await waitFor(async () => await text(join(b.root, "notes.txt")) === "v1\n", 20_000, logs);
  await b.stop();
  const edited = Date.now();
  await Deno.writeTextFile(join(a.root, "notes.txt"), "edited on A\n");
  await Deno.writeTextFile(join(b.root, "notes.txt"), "edited on B\n");
  // A's edit is pushed before B comes back.
  await waitFor(() => syncedSince(a, edited), 20_000, logs);
  await b.start();
  return { a, b, logs };
}

function published(lines: ActivityLine[], type: string): string[] {
  return lines.flatMap((l) =>
    l.kind === "state_event" && l.direction === "published" && l.event.type === type
      ? [l.event.path!]
      : []
  );
}

Deno.test("interactive: a concurrent edit is queued and announced, nothing is overwritten, and resolving it through the API reaches the other device", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-conflict-");
  await using nats = await startNatsServer();
  const { a, b, logs } = await concurrentEdit(tmp.path, nats, "interactive");
  const bEvents = await b.recordEvents();
  try {
    await waitFor(async () => (await b.status()).sync.pending_conflicts === 1, 20_000, logs);
    using client = createControlClient(b.socket);
    const listed = await client.conflicts();
    assert.equal(listed.conflict_mode, "interactive");
    assert.deepEqual(listed.conflicts.map((c) => c.path), ["notes.txt"]);
    assert.equal(await text(join(b.root, "notes.txt")), "edited on B\n", "B's edit is kept");
    assert.equal(await text(join(a.root, "notes.txt")), "edited on A\n", "A's edit is kept");
    const metrics = await (await fetch(`http://${(await b.status()).metrics_addr}/metrics`)).text();
    assert.match(metrics, /^tcfs_conflicts_total 1$/m);

    const outcome = await client.resolveConflict({ path: "notes.txt", resolution: "keep_both" });
    assert.equal(outcome.copies.length, 1);
    const copy = outcome.copies[0];
    assert.match(copy, /^notes\.conflict-devB-\d{8}-\d{6}\.txt$/);
    assert.equal(await text(join(b.root, "notes.txt")), "edited on A\n");
    assert.equal(await text(join(b.root, copy)), "edited on B\n");
    assert.deepEqual(published(bEvents.lines, "conflict_resolved"), ["notes.txt"]);
    // A learns of the copy through the events alone (its polling is an hour away).
    await waitFor(async () => await text(join(a.root, copy)) === "edited on B\n", 20_000, logs);
    assert.equal(await text(join(a.root, "notes.txt")), "edited on A\n");
    assert.equal((await b.status()).sync.pending_conflicts, 0);
    assert.deepEqual((await client.conflicts()).conflicts, []);
  } finally {
    await bEvents.stop();
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});

Deno.test("auto: the smaller device name wins at once and the other side's copy reaches every device", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-conflict-auto-");
  await using nats = await startNatsServer();
  const { a, b, logs } = await concurrentEdit(tmp.path, nats, "auto");
  try {
    const copyIn = async (root: string) =>
      (await Array.fromAsync(Deno.readDir(root))).map((e) => e.name)
        .find((name) => name.startsWith("notes.conflict-devB-"));
    await waitFor(async () => (await copyIn(a.root)) !== undefined, 20_000, logs);
    const copy = (await copyIn(a.root))!;
    assert.equal(await text(join(a.root, copy)), "edited on B\n");
    assert.equal(await text(join(b.root, copy)), "edited on B\n");
    await waitFor(
      async () => await text(join(b.root, "notes.txt")) === "edited on A\n",
      20_000,
      logs,
    );
    assert.equal(await text(join(a.root, "notes.txt")), "edited on A\n");
    assert.equal((await b.status()).sync.pending_conflicts, 0);
  } finally {
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
