import assert from "node:assert/strict";
import { createPackRunPrefetch } from "../../../core/sync/pack_run_prefetch.ts";
import type { ChunkRef } from "../../../core/remote/file_version.ts";
import { packKey } from "../../../core/remote/remote_keys.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { createMemoryStore } from "../../support/memory_store.ts";
import { withFaults } from "../../support/faulty_store.ts";

/** Two packs of patterned bytes in a memory store that counts its calls. */
function packedStore() {
  const store = withFaults(createMemoryStore());
  const body = (size: number, seed: number) =>
    Uint8Array.from({ length: size }, (_, i) => (i * 7 + seed) % 251);
  store.put(packKey("p1"), body(300_000, 1));
  store.put(packKey("p2"), body(1_000, 2));
  store.calls.put = 0;
  return store;
}

/** A chunk ref of `length` stored bytes at `offset` in pack `pack`. */
function ref(pack: string, offset: number, length: number): ChunkRef {
  return { id: `${pack}-${offset}`, size: length, pack, offset, length };
}

const a = ref("p1", 0, 100);
const b = ref("p1", 100, 50);
const c = ref("p1", 200, 30); // 50 bytes after b: the same run
const d = ref("p1", 200_000, 10); // far away: a run of its own
const e = ref("p2", 10, 20);

function read(store: ObjectStore, r: ChunkRef): Promise<Uint8Array | undefined> {
  return store.getRange(packKey(r.pack!), r.offset!, r.length!);
}

Deno.test("neighbouring slices of a pack come down in one range request, served to each claim, and the run is freed once all were read", async () => {
  const store = packedStore();
  const prefetch = createPackRunPrefetch(store, [[a], [b, c], [d], [e]]);
  assert.equal(prefetch.runs, 3);
  const first = prefetch.claim([a]);
  const second = prefetch.claim([b, c]);
  // Both at once: one fetch between them.
  const [gotA, gotB] = await Promise.all([read(first, a), read(second, b)]);
  assert.equal(store.calls.getRange, 1);
  assert.deepEqual(gotA, await read(store, a));
  assert.deepEqual(gotB, await read(store, b));
  store.calls.getRange = 0;
  assert.equal(prefetch.bufferedBytes, 230, "the run a..c is held while c is still to be read");
  // b and c read as one range, as a file's consecutive chunks are.
  const joined = await second.getRange(packKey("p1"), 100, 130);
  assert.equal(store.calls.getRange, 0);
  assert.deepEqual(joined, await read(store, ref("p1", 100, 130)));
  store.calls.getRange = 0;
  assert.equal(prefetch.bufferedBytes, 0, "every planned slice of the run was read");
  first[Symbol.dispose]();
  second[Symbol.dispose]();
});

Deno.test("a slice that starts where the run before it ends belongs to the next run, which is freed once read", async () => {
  const store = packedStore();
  const [x, y, z] = [ref("p1", 0, 100), ref("p1", 100, 100), ref("p1", 200, 50)];
  // Runs of at most 150 bytes: x alone, then y and z.
  const prefetch = createPackRunPrefetch(store, [[x, y, z]], { maxRunBytes: 150 });
  assert.equal(prefetch.runs, 2);
  using claim = prefetch.claim([x, y, z]);
  assert.deepEqual(await read(claim, x), await read(store, x));
  assert.equal(prefetch.bufferedBytes, 0);
  const joined = await claim.getRange(packKey("p1"), 100, 150);
  assert.deepEqual(joined, await store.getRange(packKey("p1"), 100, 150));
  assert.equal(store.calls.getRange, 4, "one fetch per run, and the two reads of the store here");
  assert.equal(prefetch.bufferedBytes, 0, "every planned slice of the second run was read");
});

Deno.test("a claim disposed of without reading frees the run the others are done with", async () => {
  const store = packedStore();
  const prefetch = createPackRunPrefetch(store, [[a], [b]]);
  assert.equal(prefetch.runs, 1);
  using reader = prefetch.claim([a]);
  const skipped = prefetch.claim([b]);
  await reader.getRange(packKey("p1"), 0, 100);
  assert.equal(prefetch.bufferedBytes, 150);
  skipped[Symbol.dispose]();
  assert.equal(prefetch.bufferedBytes, 0);
  // A read after its run was freed still gets its bytes, from the store.
  using late = prefetch.claim([a]);
  assert.deepEqual(await late.getRange(packKey("p1"), 0, 100), await read(store, a));
});

Deno.test("reads outside the planned runs, and other calls, go straight to the store", async () => {
  const store = packedStore();
  const prefetch = createPackRunPrefetch(store, [[a, b]]);
  using claim = prefetch.claim([a, b]);
  const outside = await claim.getRange(packKey("p1"), 5_000, 40);
  assert.deepEqual(outside, await store.getRange(packKey("p1"), 5_000, 40));
  assert.equal(store.calls.getRange, 2);
  assert.equal(prefetch.bufferedBytes, 0, "nothing was fetched for the run");
  assert.equal((await claim.get(packKey("p2")))?.length, 1_000);
  assert.equal(store.calls.get, 1);
  assert.equal(await claim.getRange(packKey("gone"), 0, 10), undefined);
});

Deno.test("runs stop at the gap and size limits, and past the memory limit reads fetch only their range", async () => {
  const store = packedStore();
  assert.equal(createPackRunPrefetch(store, [[a, b, c]], { maxGapBytes: 49 }).runs, 2);
  assert.equal(createPackRunPrefetch(store, [[a, b, c]], { maxRunBytes: 150 }).runs, 2);
  const tight = createPackRunPrefetch(store, [[a, b, c]], { maxBufferedBytes: 100 });
  using claim = tight.claim([a, b, c]);
  assert.deepEqual(await claim.getRange(packKey("p1"), 0, 100), await read(store, a));
  assert.equal(tight.bufferedBytes, 0);
  store.calls.getRange = 0;
  await claim.getRange(packKey("p1"), 100, 50);
  assert.equal(store.calls.getRange, 1, "each read went on its own");
});

Deno.test("a run whose fetch failed is fetched again by its next reader", async () => {
  const store = packedStore();
  const prefetch = createPackRunPrefetch(store, [[a], [b]]);
  store.inject({ op: "getRange", action: "fail" });
  using first = prefetch.claim([a]);
  await assert.rejects(first.getRange(packKey("p1"), 0, 100), /injected/);
  using second = prefetch.claim([b]);
  assert.deepEqual(await second.getRange(packKey("p1"), 100, 50), await read(store, b));
  assert.equal(prefetch.bufferedBytes, 0);
});
