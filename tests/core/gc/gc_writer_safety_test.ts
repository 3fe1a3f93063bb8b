/**
 * Writers never name a pack gc deleted, even once the record that condemned it is gone with
 * it: not a device that was away while gc condemned and deleted the pack, nor a push that
 * outlasted the pack's whole condemnation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { withFaults } from "../../support/faulty_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { runGc } from "../../../core/gc/gc_run.ts";
import { checkStore } from "../../../core/check/store_check.ts";
import { readCondemnedRecords } from "../../../core/gc/condemned_packs.ts";
import type { TcfsError } from "../../../core/errors.ts";

const KEEP_LAST_ONE = { keepDays: 0, keepLast: 1, staggered: false };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("a device away while gc condemned and deleted a pack does not name it when its content comes back", async () => {
  const tmp = await makeScopedTempDir("tcfs-gc-away-");
  const memory = createMemoryStore(`memory://${crypto.randomUUID()}`);
  using a = await openSyncDevice(tmp.path, "alpha", memory);
  const old = "content that comes back ".repeat(400);
  await Deno.writeTextFile(join(a.root, "f.txt"), old);
  await a.pushAll();
  await Deno.writeTextFile(join(a.root, "f.txt"), "newer\n");
  await a.pushAll();

  // gc condemns the pack of the old content, then deletes it; alpha pushes nothing meanwhile.
  const condemned = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 100 });
  assert.ok(condemned.objects!.condemned > 0, JSON.stringify(condemned));
  await sleep(150);
  const deleted = await runGc(a.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 100 });
  assert.ok(deleted.objects!.deleted > 0, JSON.stringify(deleted));
  assert.deepEqual(await readCondemnedRecords(memory), [], "no record is left to warn alpha");

  // The old content comes back under another name: it must be uploaded again.
  await Deno.writeTextFile(join(a.root, "g.txt"), old);
  await a.pushAll();
  const check = await checkStore(a.ctx, { prefix: "", readData: true });
  assert.deepEqual(check.problems, []);
});

Deno.test("a push that outlasts the condemnation and deletion of its first pack is refused, and the next one stores it again", async () => {
  const viewAge = Deno.env.get("TCFS_CONDEMNED_VIEW_MAX_AGE_MS");
  Deno.env.set("TCFS_CONDEMNED_VIEW_MAX_AGE_MS", "50");
  try {
    const tmp = await makeScopedTempDir("tcfs-gc-slow-push-");
    const memory = createMemoryStore(`memory://${crypto.randomUUID()}`);
    const faulty = withFaults(memory);
    using a = await openSyncDevice(tmp.path, "alpha", faulty);
    using gc = await openSyncDevice(tmp.path, "gc", memory);
    await Deno.writeTextFile(join(a.root, "small.txt"), "small\n");
    await a.pushAll();

    // A file of two packs: the first lands, the second hangs while gc, which finds the first
    // unreferenced, condemns it and, a safe minimum age later, deletes it.
    const slow = Promise.withResolvers<void>();
    faulty.inject({ op: "put", keyPrefix: "packs/", nth: 2, action: "delay", until: slow.promise });
    await Deno.writeFile(join(a.root, "big.bin"), randomBytes(6 * 1024 * 1024, 7));
    const pushing = a.pushAll();
    pushing.catch(() => {});
    while (![...memory.objects.keys()].some((k) => k.startsWith("packs/"))) await sleep(5);
    await sleep(20);
    const first = await runGc(gc.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 150 });
    assert.ok(first.objects!.condemned > 0, JSON.stringify(first));
    await sleep(200);
    const second = await runGc(gc.ctx, { policy: KEEP_LAST_ONE, minAgeMs: 150 });
    assert.ok(second.objects!.deleted > 0, JSON.stringify(second));
    slow.resolve();

    await assert.rejects(pushing, (err: TcfsError) => err.kind === "content_condemned");
    await a.pushAll();
    const check = await checkStore(a.ctx, { prefix: "", readData: true });
    assert.deepEqual(check.problems, []);
    assert.equal(check.versions_checked, 2);
  } finally {
    if (viewAge === undefined) Deno.env.delete("TCFS_CONDEMNED_VIEW_MAX_AGE_MS");
    else Deno.env.set("TCFS_CONDEMNED_VIEW_MAX_AGE_MS", viewAge);
  }
});
