import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import {
  decodeSegment,
  encodeJournalObject,
  JOURNAL_FORMAT,
} from "../../../core/journal/journal_codec.ts";
import { foldedNamespace } from "../../../core/journal/folded_versions.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import { segmentKey } from "../../../core/remote/remote_keys.ts";
import { CHUNK_FORMAT_ZSTD } from "../../../core/chunking/chunk_codec.ts";
import type { SyncDevice } from "../../support/sync_device.ts";
import { plantSegment, storeHeads, storeSegments } from "../../support/journal_store.ts";

function foldedPaths(device: SyncDevice): string[] {
  return [...foldedNamespace(device.ctx.state, trackedNamespace(device.ctx), () => true).keys()]
    .sort();
}

Deno.test("a damaged segment is reported and holds back only its own device's later segments", async () => {
  const tmp = await makeScopedTempDir("tcfs-damaged-segment-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  using c = await openSyncDevice(tmp.path, "gamma", store);
  try {
    for (const name of ["a1", "a2", "a3"]) {
      await Deno.writeTextFile(join(a.root, `${name}.txt`), `${name} `.repeat(40));
      await a.pushAll();
    }
    await Deno.writeTextFile(join(b.root, "b1.txt"), "b1\n");
    await b.pushAll();

    const damaged = segmentKey("default", a.ctx.device.id, 2);
    const good = store.objects.get(damaged)!;
    assert.equal(good[0], CHUNK_FORMAT_ZSTD);
    const flipped = good.slice();
    flipped[Math.floor(flipped.length / 2)] ^= 0x10;
    store.objects.set(damaged, flipped);

    const unreadable = await catchUp(c.ctx);
    assert.equal(unreadable.length, 1);
    assert.equal(unreadable[0].kind, "corrupt_journal");
    assert.match(unreadable[0].message, new RegExp(`journal object ${damaged} is unreadable`));
    // B's journal and A's segment before the damage are folded; A's later ones wait.
    assert.deepEqual(foldedPaths(c), ["a1.txt", "b1.txt"]);
    const pulled = await c.pullAll();
    assert.ok(pulled.failures.some((f) => f.error.includes(damaged)), JSON.stringify(pulled));
    assert.equal(await Deno.readTextFile(join(c.root, "b1.txt")), "b1\n");
    assert.equal(await Deno.readTextFile(join(c.root, "a1.txt")), "a1 ".repeat(40));

    // Once the segment reads again, the rest of A's journal follows.
    store.objects.set(damaged, good);
    assert.deepEqual(await catchUp(c.ctx), []);
    assert.deepEqual(foldedPaths(c), ["a1.txt", "a2.txt", "a3.txt", "b1.txt"]);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a segment holding another device's version is refused", async () => {
  const tmp = await makeScopedTempDir("tcfs-forged-segment-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using c = await openSyncDevice(tmp.path, "gamma", store);
  try {
    await Deno.writeTextFile(join(a.root, "real.txt"), "real\n");
    await a.pushAll();
    const own = await decodeSegment(
      store.objects.get(segmentKey("default", a.ctx.device.id, 1))!,
      segmentKey("default", a.ctx.device.id, 1),
      undefined,
    );
    // Mallory files a version in A's name (as if A wrote forged.txt) in her own journal.
    const mallory = crypto.randomUUID();
    const forgedKey = segmentKey("default", mallory, 1);
    store.objects.set(
      forgedKey,
      await encodeJournalObject(
        {
          journal: JOURNAL_FORMAT,
          namespace: "default",
          device: mallory,
          seq: 1,
          written_at: new Date().toISOString(),
          versions: [{ ...own.versions[0], path: "forged.txt" }],
        },
        forgedKey,
        undefined,
      ),
    );

    const unreadable = await catchUp(c.ctx);
    assert.equal(unreadable.length, 1);
    assert.equal(unreadable[0].kind, "corrupt_journal");
    assert.match(unreadable[0].message, new RegExp(`${forgedKey}.*another device wrote`));
    assert.deepEqual(foldedPaths(c), ["real.txt"]);
    await c.pullAll();
    await assert.rejects(Deno.stat(join(c.root, "forged.txt")), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(join(c.root, "real.txt")), "real\n");
  } finally {
    await tmp.remove();
  }
});

Deno.test("a missing segment is a hole: reported, and its device's later segments wait", async () => {
  const tmp = await makeScopedTempDir("tcfs-missing-segment-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  try {
    for (const name of ["a1", "a2", "a3"]) {
      await Deno.writeTextFile(join(a.root, `${name}.txt`), `${name}\n`);
      await a.pushAll();
    }
    for (const name of ["b1", "b2"]) {
      await Deno.writeTextFile(join(b.root, `${name}.txt`), `${name}\n`);
      await b.pushAll();
    }
    const lost = segmentKey("default", a.ctx.device.id, 2);
    assert.ok(store.objects.delete(lost));

    const read = await storeHeads(store);
    assert.equal(read.unreadable.length, 1, read.unreadable.map((e) => e.message).join("\n"));
    assert.equal(read.unreadable[0].kind, "corrupt_journal");
    assert.match(read.unreadable[0].message, new RegExp(`${lost} is missing`));
    assert.deepEqual([...read.byPath.keys()].sort(), ["a1.txt", "b1.txt", "b2.txt"]);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a segment with a version whose clock lacks its author's counter is unreadable", async () => {
  const tmp = await makeScopedTempDir("tcfs-nameless-version-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  try {
    await Deno.writeTextFile(join(a.root, "real.txt"), "real\n");
    await a.pushAll();
    const own = (await storeSegments(store))[0].versions[0];
    // Two versions by D with no counter of D's: both would be named `<D>-0.json`.
    const d = crypto.randomUUID();
    const first = { ...own, path: "p.txt", author: d, vclock: { [a.ctx.device.id]: 1 } };
    const second = { ...first, vclock: { [a.ctx.device.id]: 2 } };
    const key = await plantSegment(store, d, [first, second]);

    const read = await storeHeads(store);
    assert.equal(read.unreadable.length, 1, read.unreadable.map((e) => e.message).join("\n"));
    assert.equal(read.unreadable[0].kind, "corrupt_journal");
    assert.match(read.unreadable[0].message, new RegExp(`${key}.*no counter of its author`));
    assert.deepEqual([...read.byPath.keys()], ["real.txt"]);
  } finally {
    await tmp.remove();
  }
});
