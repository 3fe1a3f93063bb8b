import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { cliStoreBackends } from "../support/cli_store_backends.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { assertSameTree } from "../support/tree_compare.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import type { GcReport } from "../../core/gc/gc_run.ts";
import { takeGcLease } from "../../core/gc/gc_lease.ts";
import { contentObjectSizes } from "../../core/remote/content_objects.ts";
import { GC_LEASE_PREFIX, parseCheckpointKey } from "../../core/remote/remote_keys.ts";
import type { CheckReport } from "../../cli/commands/check_command.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** Only the heads are kept, so every edit leaves something for gc. */
const KEEP_HEADS_ONLY = { TCFS_HISTORY_KEEP_DAYS: "0", TCFS_HISTORY_KEEP_LAST: "1" };

/** Every object in the store, with its size, but the gc lease (a dry run takes it too). */
async function storeListing(store: ObjectStore): Promise<Map<string, number>> {
  const listing = new Map<string, number>();
  for await (const { key, size } of store.list("")) {
    if (!key.startsWith(GC_LEASE_PREFIX)) listing.set(key, size);
  }
  return listing;
}

function total(sizes: ReadonlyMap<string, number>): number {
  return [...sizes.values()].reduce((a, b) => a + b, 0);
}

/** Rewrites most files of `src` and deletes one, `rounds` times, pushing each round. */
async function churn(device: DeviceHome, src: string, rounds: number): Promise<void> {
  await Deno.mkdir(src, { recursive: true });
  await writeRandomFile(join(src, "steady.bin"), 120_000, 1);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 4; i++) {
      await writeRandomFile(join(src, `f${i}.bin`), 60_000 + 10_000 * i, 100 * round + i + 2);
    }
    await Deno.remove(join(src, `f${round % 4}.bin`));
    await device.tcfsJson<PushSummary>(["push", src]);
  }
}

for (const backend of cliStoreBackends("gc", { ownBucket: true })) {
  Deno.test(`${backend.name}: tcfs gc --dry-run deletes nothing, --min-age 0 frees what the policy dropped, and every device still reads the heads`, async () => {
    const tmp = await makeScopedTempDir("tcfs-gc-cli-");
    try {
      const target = backend.setup(tmp.path);
      const device = (name: string) =>
        makeDeviceHome(tmp.path, name, {
          ...target.env,
          ...KEEP_HEADS_ONLY,
          TCFS_SOCKET: join(tmp.path, `${name}.sock`),
        });
      const a = await device("devA");
      const b = await device("devB");
      const src = join(a.home, "lab");
      const remote = `${target.bucket}/${target.namespace}/lab`;
      await churn(a, src, 4);
      await b.tcfsJson<PullSummary>(["pull", remote, join(b.home, "lab")]);
      using store = target.store();
      const before = await storeListing(store);

      const dry = await a.tcfsJson<GcReport>(["gc", "--dry-run"]);
      assert.equal(dry.dry_run, true);
      assert.equal(dry.namespace, target.namespace);
      assert.ok(dry.versions.dropped > 0, JSON.stringify(dry.versions));
      assert.ok(dry.objects!.condemned > 0 && dry.objects!.deleted === 0, JSON.stringify(dry));
      assert.deepEqual(await storeListing(store), before, "a dry run changes nothing");

      const contentBefore = await contentObjectSizes(store);
      const run = await a.tcfs(["gc", "--min-age", "0", "--json"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /warning: a minimum age of 0 is below the safe 15m/);
      const report = JSON.parse(run.stdout) as GcReport;
      assert.deepEqual(report.problems, []);
      assert.equal(report.versions.dropped, dry.versions.dropped);
      assert.equal(parseCheckpointKey(report.floor!)?.generation, 1, report.floor);
      assert.ok(report.journal_objects_deleted > 0);
      assert.ok(report.objects!.deleted > 0 && report.objects!.deletedBytes > 0);
      const contentAfter = await contentObjectSizes(store);
      assert.equal(
        total(contentAfter),
        total(contentBefore) - report.objects!.deletedBytes + report.repacked.bytes_after,
        "the store shrank by what gc says it freed",
      );
      assert.ok(total(contentAfter) < total(contentBefore) / 2);

      // The text report says the same.
      const again = await a.tcfs(["gc", "--min-age", "0"]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`gc of namespace ${target.namespace}\n`));
      assert.match(again.stdout, /^versions +\d+ in history: \d+ kept, 0 dropped$/m);
      assert.match(again.stdout, /^deleted +0 objects, 0 B freed$/m);

      for (const checker of [a, b]) {
        const check = await checker.tcfsJson<CheckReport>(["check", "--read-data"]);
        assert.deepEqual(check.problems, []);
        assert.ok(check.versions_checked >= 4);
      }
      const c = await device("devC");
      await c.tcfsJson<PullSummary>(["pull", remote, join(c.home, "lab")]);
      await assertSameTree(src, join(c.home, "lab"));
      // B's view predates the floor: it refolds from it, and follows a's next edit.
      await writeRandomFile(join(src, "f3.bin"), 5_000, 999);
      await a.tcfsJson<PushSummary>(["push", src]);
      await b.tcfsJson<PullSummary>(["pull", remote, join(b.home, "lab")]);
      await assertSameTree(src, join(b.home, "lab"));

      // Another device's gc holds the lease: this one stops at once and names it.
      const lease = await takeGcLease(
        store,
        { id: crypto.randomUUID(), name: "otherdev" },
        60_000,
      );
      assert.ok(!("heldBy" in lease));
      const held = await a.tcfs(["gc", "--json"]);
      assert.equal(held.code, 1);
      const { error } = JSON.parse(held.stdout);
      assert.equal(error.kind, "gc_lease_held");
      assert.match(error.message, /another gc is running: the lease is held by otherdev until/);
      const text = await a.tcfs(["gc"]);
      assert.equal(text.code, 1);
      assert.match(text.stderr, /held by otherdev/);
      assert.match(text.stderr, /hint: wait for it to finish/);
      await lease.release();
      assert.equal((await a.tcfs(["gc", "--dry-run"])).code, 0);
    } finally {
      await tmp.remove();
    }
  });
}

Deno.test("tcfs gc --min-age takes durations and refuses anything else as a usage error", async () => {
  const tmp = await makeScopedTempDir("tcfs-gc-args-");
  try {
    const a = await makeDeviceHome(tmp.path, "devA", {
      TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
      TCFS_SOCKET: join(tmp.path, "devA.sock"),
    });
    for (const bad of ["30", "1y", "-1h", "soon"]) {
      const result = await a.tcfs(["gc", "--min-age", bad]);
      assert.equal(result.code, 2, `${bad}: ${result.stderr}`);
      assert.match(result.stderr, /is not a duration/);
    }
    const unsafe = await a.tcfs(["gc", "--min-age", "5m"]);
    assert.equal(unsafe.code, 0, unsafe.stderr);
    assert.match(unsafe.stderr, /a minimum age of 5m is below the safe 15m/);
    const safe = await a.tcfs(["gc", "--min-age", "2h", "--json"]);
    assert.equal(safe.code, 0, safe.stderr);
    assert.equal(safe.stderr, "");

    const help = await a.tcfs(["gc", "--help"]);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /--min-age 0 deletes unreferenced objects at once: only for a store\s+nobody else is writing\s+to/,
    );
    assert.match(help.stdout, /below 15m \(the safe minimum\) is\s+unsafe beside other writers/);
  } finally {
    await tmp.remove();
  }
});
