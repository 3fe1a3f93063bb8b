import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore, type MemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { runGc } from "../../../core/gc/gc_run.ts";
import { pathHistory } from "../../../core/history/path_history.ts";
import { checkStore } from "../../../core/check/store_check.ts";
import { parseCheckpointKey, parseSegmentKey } from "../../../core/remote/remote_keys.ts";
import type { RetentionPolicy } from "../../../core/history/retention_policy.ts";
import {
  assertNoneCondemned,
  encodeCondemnedRecord,
  forgetCondemnedViews,
  readCondemnedRecords,
} from "../../../core/gc/condemned_packs.ts";
import { condemnedRecordKey } from "../../../core/remote/remote_keys.ts";
import type { FileVersion } from "../../../core/remote/file_version.ts";
import type { TcfsError } from "../../../core/errors.ts";
import { assertSameTree } from "../../support/tree_compare.ts";
import { namespaceHeads } from "../../../core/sync/sync_context.ts";
import { push } from "../../../core/sync/push.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";

const KEEP_LAST_ONE: RetentionPolicy = { keepDays: 0, keepLast: 1, staggered: false };

function bytesOf(memory: MemoryStore, prefix: string): number {
  let total = 0;
  for (const [key, body] of memory.objects) if (key.startsWith(prefix)) total += body.length;
  return total;
}

/** Edits `files` files, deleting a few, for `rounds` pushes. */
async function churn(device: SyncDevice, files: number, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < files; i++) {
      const path = join(device.root, `f${i}.txt`);
      if ((i + round) % 7 === 0) await Deno.remove(path).catch(() => {});
      else await Deno.writeTextFile(path, `${i} ${round} `.repeat(200 + i));
    }
    await device.pushAll();
  }
}

Deno.test("gc keeps what the policy keeps and frees the rest: bucket near the live data, every head intact", async () => {
  const tmp = await makeScopedTempDir("tcfs-gc-");
  const memory = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", memory);
  using b = await openSyncDevice(tmp.path, "beta", memory);
  await churn(a, 30, 12);
  await b.pullAll();
  const packsBefore = bytesOf(memory, "packs/");

  const dry = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 0, dryRun: true });
  assert.equal(bytesOf(memory, "packs/"), packsBefore, "a dry run deletes nothing");
  assert.ok(dry.versions.dropped > 0 && dry.objects!.deleted > 0, JSON.stringify(dry));

  const report = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 0 });
  assert.deepEqual(report.problems, []);
  assert.equal(report.versions.dropped, dry.versions.dropped);
  assert.ok(report.floor && parseCheckpointKey(report.floor)?.generation === 1);
  const packsAfter = bytesOf(memory, "packs/");
  assert.ok(packsAfter < packsBefore / 4, `${packsAfter} of ${packsBefore}`);
  const liveBytes = await storedLiveBytes(a);
  assert.ok(packsAfter <= 1.2 * liveBytes, `packs ${packsAfter} B, live ${liveBytes} B`);
  // Segments the floor covers are gone, but each device's newest.
  assert.equal([...memory.objects.keys()].filter((k) => parseSegmentKey(k)).length, 1);

  // Every head reads back whole, on the device that ran gc, on one that refolds, on a new one.
  for (const device of [a, b]) {
    const check = await checkStore(device.ctx, { prefix: "", readData: true });
    assert.deepEqual(check.problems, []);
  }
  const { entries } = await pathHistory(b.ctx, "f1.txt");
  assert.equal(entries.length, 1, "b refolded from the floor");
  using c = await openSyncDevice(tmp.path, "gamma", memory);
  await c.pullAll();
  await assertSameTree(a.root, c.root);

  // Life goes on after gc: edits on b reach a, and history grows again.
  await Deno.writeTextFile(join(b.root, "f1.txt"), "after gc\n");
  await b.pushAll();
  await a.pullAll();
  assert.equal(await Deno.readTextFile(join(a.root, "f1.txt")), "after gc\n");
  assert.equal((await pathHistory(a.ctx, "f1.txt")).entries.length, 2);
});

/** Bytes of the stored chunks the heads of `device`'s namespace name. */
async function storedLiveBytes(device: SyncDevice): Promise<number> {
  const { byPath } = await namespaceHeads(device.ctx, () => true);
  const ranges = new Map<string, number>();
  for (const { heads } of byPath.values()) {
    for (const head of heads) {
      for (const ref of head.version.chunks) {
        ranges.set(`${ref.pack}@${ref.offset}`, ref.length ?? ref.size);
      }
    }
  }
  return [...ranges.values()].reduce((a, b) => a + b, 0);
}

Deno.test("with a minimum age, gc condemns first and deletes on a later run; writers stop naming condemned packs", async () => {
  const tmp = await makeScopedTempDir("tcfs-gc-age-");
  const memory = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", memory);
  await churn(a, 10, 4);
  const before = bytesOf(memory, "packs/");
  const first = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 200 });
  assert.equal(first.objects!.deleted, 0);
  assert.ok(first.objects!.condemned > 0);
  assert.equal(bytesOf(memory, "packs/"), before, "nothing deleted yet");
  const records = await readCondemnedRecords(memory);
  assert.equal(records.length, 1);

  // Content that was in a condemned pack comes back: it is uploaded again, never named there.
  const condemned = new Set(records[0].record.objects);
  await Deno.writeTextFile(join(a.root, "f1.txt"), `1 0 `.repeat(201));
  await a.pushAll();
  const { heads } = await pathHistory(a.ctx, "f1.txt").then((h) => ({
    heads: h.entries.filter((e) => e.head),
  }));
  assert.equal(heads.length, 1);
  assert.equal(heads[0].version.size, 4 * 201, "the push wrote the old content again");
  for (const ref of heads[0].version.chunks) {
    assert.ok(!condemned.has(`packs/${ref.pack}`), `named condemned packs/${ref.pack}`);
  }

  // Too early: still waiting.
  const early = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 60_000 });
  assert.equal(early.objects!.deleted, 0);
  await new Promise((resolve) => setTimeout(resolve, 250));
  const second = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 200 });
  assert.equal(second.objects!.deleted, first.objects!.condemned);
  assert.ok(bytesOf(memory, "packs/") < before);
  assert.deepEqual(await readCondemnedRecords(memory), []);
  const check = await checkStore(a.ctx, { prefix: "", readData: true });
  assert.deepEqual(check.problems, []);
});

Deno.test("a pack another namespace still names survives gc of this one", async () => {
  const tmp = await makeScopedTempDir("tcfs-gc-shared-");
  const memory = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", memory);
  const shared = "shared content ".repeat(500);
  await Deno.writeTextFile(join(a.root, "s.txt"), shared);
  await a.pushAll();
  // The same device pushes the same file into another namespace: its chunks are reused.
  const other = { ...a.ctx, namespace: "other" };
  await push(other, { localPath: a.root, remoteRel: "", excludes: [] });
  await Deno.remove(join(a.root, "s.txt"));
  await a.pushAll();
  const packs = [...memory.objects.keys()].filter((k) => k.startsWith("packs/"));
  assert.equal(packs.length, 1);
  const report = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 0 });
  assert.ok(report.versions.dropped > 0);
  for (const pack of packs) assert.ok(memory.objects.has(pack), `${pack} deleted`);
  const check = await checkStore(other, { prefix: "", readData: true });
  assert.deepEqual(check.problems, []);
});

Deno.test("a segment naming a condemned pack is refused, with what to do", async () => {
  const memory = createMemoryStore();
  const at = new Date();
  await memory.put(
    condemnedRecordKey(at, crypto.randomUUID()),
    encodeCondemnedRecord({ condemned_at: at.toISOString(), by: "x", objects: ["packs/dead"] }),
  );
  await memory.put("packs/alive", new Uint8Array(2));
  forgetCondemnedViews();
  const version = (pack: string) =>
    ({
      path: "a.txt",
      chunks: [{ id: "0".repeat(64), size: 1, pack, offset: 0, length: 2 }],
    }) as unknown as FileVersion;
  await assertNoneCondemned(memory, [version("alive")]);
  await assert.rejects(
    assertNoneCondemned(memory, [version("dead")]),
    (err: TcfsError) => err.kind === "content_condemned" && /push again/.test(err.hint ?? ""),
  );
});

Deno.test("a catch-up that gc overtakes (floor written, segments deleted) reads on from the new floor, reporting nothing", async () => {
  const tmp = await makeScopedTempDir("tcfs-gc-overtaken-");
  const memory = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", memory);
  await churn(a, 5, 1);
  // Beta's store runs gc (on alpha) right after beta listed the checkpoints, once.
  let overtake = false;
  const racing: ObjectStore = {
    ...memory,
    async *list(prefix, options) {
      const items = memory.list(prefix, options);
      if (overtake && prefix.endsWith("/j/")) {
        overtake = false;
        await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 0 });
      }
      yield* items;
    },
  };
  using b = await openSyncDevice(tmp.path, "beta", racing);
  await b.pullAll(); // folded from the first segments
  await churn(a, 5, 4);
  overtake = true;
  assert.deepEqual(await catchUp(b.ctx), []);
  assert.equal(overtake, false, "gc ran mid-catch-up");
  await b.pullAll();
  await assertSameTree(a.root, b.root);
});

Deno.test("in a sealed namespace gc repacks chunks checked against their keyed ids, and every head reads back", async () => {
  const tmp = await makeScopedTempDir("tcfs-gc-sealed-");
  const memory = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", memory);
  using b = await openSyncDevice(tmp.path, "beta", memory);
  a.ctx.keys = b.ctx.keys = await testFleetKeys(a.ctx.device.id);
  // Two files of twenty keep their first version: the first pack is mostly dead, and repacked.
  for (const round of [1, 2]) {
    for (let i = round === 1 ? 0 : 2; i < 20; i++) {
      await Deno.writeFile(join(a.root, `f${i}.bin`), randomBytes(20_000, 100 * round + i));
    }
    await a.pushAll();
  }
  const report = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 0 });
  assert.deepEqual(report.problems, []);
  assert.equal(report.repacked.packs, 1, JSON.stringify(report.repacked));
  const check = await checkStore(b.ctx, { prefix: "", readData: true });
  assert.deepEqual(check.problems, []);
  await b.pullAll();
  await assertSameTree(a.root, b.root);
});
