import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { plantSegment, storeHeads, storeSegments } from "../../support/journal_store.ts";
import { MAX_SEGMENT_RAW_BYTES } from "../../../core/journal/journal_codec.ts";
import { encodeFileVersion, MAX_VERSION_BYTES } from "../../../core/remote/file_version.ts";
import { segmentKey, versionKey } from "../../../core/remote/remote_keys.ts";

Deno.test("an oversized segment is reported, holds back its own device's later segments, and the rest folds", async () => {
  const tmp = await makeScopedTempDir("tcfs-oversized-segment-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  try {
    await Deno.writeTextFile(join(a.root, "a1.txt"), "a1\n");
    await a.pushAll();
    const own = (await storeSegments(store))[0].versions[0];
    const d = crypto.randomUUID();
    const next = { ...own, path: "d2.txt", author: d, vclock: { [d]: 2 } };
    await plantSegment(store, d, [next], { seq: 2 });
    // Segment 1 is bigger than any reader takes (zeros: the memory store does not copy it).
    const big = segmentKey("default", d, 1);
    store.objects.set(big, new Uint8Array(MAX_SEGMENT_RAW_BYTES + 64 * 1024));

    const read = await storeHeads(store);
    assert.equal(read.unreadable.length, 1, read.unreadable.map((e) => e.message).join("\n"));
    assert.equal(read.unreadable[0].kind, "oversized_object");
    assert.match(read.unreadable[0].message, new RegExp(big));
    assert.deepEqual([...read.byPath.keys()], ["a1.txt"]);
  } finally {
    await tmp.remove();
  }
});

Deno.test("an oversized old-layout object is reported, and the rest folds", async () => {
  const tmp = await makeScopedTempDir("tcfs-oversized-legacy-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  try {
    await Deno.writeTextFile(join(a.root, "a1.txt"), "a1\n");
    await a.pushAll();
    // An old tcfs writes on after the upgrade: one good version, one too big to read.
    const old = crypto.randomUUID();
    const own = (await storeSegments(store))[0].versions[0];
    const straggler = { ...own, path: "old.txt", author: old, vclock: { [old]: 1 } };
    await store.put(await versionKey("default", "old.txt", old, 1), encodeFileVersion(straggler));
    const big = await versionKey("default", "big.txt", old, 1);
    store.objects.set(big, new Uint8Array(MAX_VERSION_BYTES + 1));

    const read = await storeHeads(store);
    assert.equal(read.unreadable.length, 1, read.unreadable.map((e) => e.message).join("\n"));
    assert.equal(read.unreadable[0].kind, "oversized_object");
    assert.match(read.unreadable[0].message, new RegExp(big));
    assert.deepEqual([...read.byPath.keys()].sort(), ["a1.txt", "old.txt"]);
  } finally {
    await tmp.remove();
  }
});
