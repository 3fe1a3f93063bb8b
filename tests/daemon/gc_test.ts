import assert from "node:assert/strict";
import { join } from "node:path";
import { type DaemonDevice, makeDaemonDevice, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { createFsStore } from "../../core/store/fs_store.ts";
import { takeGcLease } from "../../core/gc/gc_lease.ts";
import { checkpointPrefix, parseCheckpointKey } from "../../core/remote/remote_keys.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import type { GcReport } from "../../core/gc/gc_run.ts";
import type { RemoteEntry } from "../../core/sync/remote_listing.ts";
import type { CheckReport } from "../../cli/commands/check_command.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";

/** `[history]` keeping only the heads and deleting at once, with gc every `interval` seconds. */
function historyConfig(interval: number): string {
  return `[history]\nkeep_days = 0\nkeep_last = 1\ngc_min_age_secs = 0\n` +
    `gc_interval_secs = ${interval}\n`;
}

/** Rewrites three files in the sync root and waits until the store has them. */
async function editRound(a: DaemonDevice, round: number): Promise<void> {
  const size = (i: number) => 20_000 + 1_000 * round + i;
  for (let i = 0; i < 3; i++) {
    await writeRandomFile(join(a.root, `f${i}.bin`), size(i), 10 * round + i);
  }
  await waitFor(
    async () => {
      const result = await a.tcfs(["ls", "--json", "tcfs/default/"]);
      if (result.code !== 0) return false;
      const sizes = new Map(
        (JSON.parse(result.stdout) as RemoteEntry[]).map((e) => [e.path, e.size]),
      );
      return [0, 1, 2].every((i) => sizes.get(`f${i}.bin`) === size(i));
    },
    20_000,
    () => `round ${round} was not pushed:\n${a.log()}`,
  );
}

/** The metric samples of `/metrics`, by series (name and labels). */
async function scrape(a: DaemonDevice): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${(await a.status()).metrics_addr}/metrics`)).text();
  return new Map(
    text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
      const at = line.lastIndexOf(" ");
      return [line.slice(0, at), Number(line.slice(at + 1))];
    }),
  );
}

async function floorGenerations(store: ObjectStore): Promise<number[]> {
  const found: number[] = [];
  for await (const { key } of store.list(checkpointPrefix("default"))) {
    const generation = parseCheckpointKey(key)?.generation;
    if (generation !== undefined) found.push(generation);
  }
  return found;
}

Deno.test("the daemon runs gc every gc_interval_secs (not at start), tcfs gc goes through it, and a held lease waits for the next run", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-gc-");
  const storeDir = join(tmp.path, "store");
  const a = await makeDaemonDevice(tmp.path, "devA", { TCFS_S3_ENDPOINT: `file://${storeDir}` });
  const store = createFsStore(storeDir);
  await a.writeConfig(historyConfig(0));
  await a.start();
  try {
    const idle = (await a.status()).gc;
    assert.deepEqual(idle, { interval_secs: 0 }, "never scheduled with an interval of 0");
    for (let round = 0; round < 3; round++) await editRound(a, round);

    // tcfs gc while the daemon runs: it asks the daemon, which holds this device's state.
    const viaCli = await a.tcfs(["gc", "--json"]);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    const report = JSON.parse(viaCli.stdout) as GcReport;
    assert.ok(report.versions.dropped >= 6, JSON.stringify(report.versions));
    assert.ok(report.objects!.deletedBytes > 0, JSON.stringify(report.objects));
    const afterApi = (await a.status()).gc.last_run!;
    assert.equal(afterApi.trigger, "api");
    assert.equal(afterApi.result, "ok");
    assert.equal(afterApi.freed_bytes, report.objects!.deletedBytes);
    assert.deepEqual(await floorGenerations(store), [1]);

    // Gc every second from the reload on: the first run comes an interval later.
    await editRound(a, 3);
    await a.writeConfig(historyConfig(1));
    using client = createControlClient(a.socket);
    const reloadedAt = Date.now();
    assert.deepEqual((await client.reload()).changed, ["history.gc_interval_secs"]);
    const scheduled = (await a.status()).gc;
    assert.equal(scheduled.interval_secs, 1);
    const due = Date.parse(scheduled.next_run_at!) - reloadedAt;
    assert.ok(due >= 850 && due <= 1_150, `next run ${due} ms after the reload`);
    await waitFor(
      async () => (await a.status()).gc.last_run?.trigger === "schedule",
      15_000,
      async () => `no scheduled gc run:\n${await a.log()}`,
    );
    const run = (await a.status()).gc.last_run!;
    assert.equal(run.result, "ok", JSON.stringify(run));
    assert.ok(run.versions_dropped! >= 3 && run.freed_bytes! > 0, JSON.stringify(run));
    assert.deepEqual(await floorGenerations(store), [2], "the scheduled run wrote the next floor");
    assert.match(
      await a.log(),
      /gc of default \(schedule, [\d.]+ s\): kept \d+ of \d+ versions, .*deleted \d+ objects, freeing \d+ B/,
    );
    const metrics = await scrape(a);
    assert.ok(metrics.get('tcfs_gc_runs_total{result="ok"}')! >= 2);
    assert.ok(metrics.get("tcfs_gc_freed_bytes_total")! >= report.objects!.deletedBytes);
    assert.ok(metrics.get("tcfs_gc_deleted_objects_total")! > 0);
    const lastRun = metrics.get("tcfs_gc_last_run_timestamp_seconds")!;
    assert.ok(Math.abs(lastRun - Date.now() / 1000) < 30, `${lastRun}`);

    // Another device holds the lease: the scheduled run leaves it be, and so does tcfs gc.
    const lease = await takeGcLease(store, { id: crypto.randomUUID(), name: "otherdev" }, 60_000);
    assert.ok(!("heldBy" in lease));
    await waitFor(
      async () => (await a.status()).gc.last_run?.result === "lease_held",
      15_000,
      async () => `no run met the lease:\n${await a.log()}`,
    );
    assert.match(
      await a.log(),
      /gc \(schedule\) skipped: another gc is running: the lease is held by otherdev until/,
    );
    assert.ok((await scrape(a)).get('tcfs_gc_runs_total{result="lease_held"}')! >= 1);
    const held = await a.tcfs(["gc", "--json"]);
    assert.equal(held.code, 1);
    assert.equal(JSON.parse(held.stdout).error.kind, "gc_lease_held");
    assert.match(JSON.parse(held.stdout).error.message, /held by otherdev/);
    await lease.release();
    await waitFor(
      async () => (await a.status()).gc.last_run?.result === "ok",
      15_000,
      async () => `gc did not resume once the lease was released:\n${await a.log()}`,
    );

    const status = await a.tcfs(["status"]);
    assert.match(status.stdout, /^gc +every 1s, next in \d+s; last run \d+s ago: ok, freed /m);
    const check = await a.tcfs(["check", "--read-data", "--json"]);
    assert.equal(check.code, 0, check.stdout);
    assert.deepEqual((JSON.parse(check.stdout) as CheckReport).problems, []);
  } finally {
    const exit = await a.stop();
    store.close();
    assert.equal(exit.code, 0, await a.log());
    await tmp.remove();
  }
});
