import assert from "node:assert/strict";
import {
  type ClaimedStore,
  createPackRunPrefetch,
  type PlannedChunks,
} from "../../../core/sync/pack_run_prefetch.ts";
import { createBoxOpener, type OpenedSlice } from "../../../core/crypto/box_opener.ts";
import { sealStored } from "../../../core/crypto/sealed_object.ts";
import { encodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { concatBytes } from "../../../core/encoding/concat_bytes.ts";
import { TcfsError } from "../../../core/errors.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import type { ChunkRef } from "../../../core/remote/file_version.ts";
import { packKey } from "../../../core/remote/remote_keys.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { createMemoryStore } from "../../support/memory_store.ts";
import { withFaults } from "../../support/faulty_store.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";

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

/** The planned chunk lists of files, of plain ids. */
function plan(...files: ChunkRef[][]): PlannedChunks[] {
  return files.map((refs) => ({ refs }));
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
  const prefetch = createPackRunPrefetch(store, plan([a], [b, c], [d], [e]));
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
  const prefetch = createPackRunPrefetch(store, plan([x, y, z]), { maxRunBytes: 150 });
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
  const prefetch = createPackRunPrefetch(store, plan([a], [b]));
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
  const prefetch = createPackRunPrefetch(store, plan([a, b]));
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
  assert.equal(createPackRunPrefetch(store, plan([a, b, c]), { maxGapBytes: 49 }).runs, 2);
  assert.equal(createPackRunPrefetch(store, plan([a, b, c]), { maxRunBytes: 150 }).runs, 2);
  const tight = createPackRunPrefetch(store, plan([a, b, c]), { maxBufferedBytes: 100 });
  using claim = tight.claim([a, b, c]);
  assert.deepEqual(await claim.getRange(packKey("p1"), 0, 100), await read(store, a));
  assert.equal(tight.bufferedBytes, 0);
  store.calls.getRange = 0;
  await claim.getRange(packKey("p1"), 100, 50);
  assert.equal(store.calls.getRange, 1, "each read went on its own");
});

Deno.test("a run whose fetch failed is fetched again by its next reader", async () => {
  const store = packedStore();
  const prefetch = createPackRunPrefetch(store, plan([a], [b]));
  store.inject({ op: "getRange", action: "fail" });
  using first = prefetch.claim([a]);
  await assert.rejects(first.getRange(packKey("p1"), 0, 100), /injected/);
  using second = prefetch.claim([b]);
  assert.deepEqual(await second.getRange(packKey("p1"), 100, 50), await read(store, b));
  assert.equal(prefetch.bufferedBytes, 0);
});

/**
 * Six chunks sealed side by side in pack `s1`, with 100 KiB between the third and the fourth (two
 * runs), in a memory store that counts its calls; their ids keyed as a sealed namespace's are.
 */
async function sealedPack() {
  const keys = await testFleetKeys();
  const raws = Array.from({ length: 6 }, (_, i) => randomBytes(1_000 + i * 400, i));
  const parts: Uint8Array[] = [];
  const refs: ChunkRef[] = [];
  let at = 0;
  for (const [i, raw] of raws.entries()) {
    if (i === 3) {
      parts.push(new Uint8Array(100 * 1024));
      at += 100 * 1024;
    }
    const id = await blake3Hex(raw, keys.idKey);
    const box = await sealStored(keys, encodeChunk(raw), id);
    parts.push(box);
    refs.push({ id, size: raw.length, pack: "s1", offset: at, length: box.length });
    at += box.length;
  }
  const memory = createMemoryStore();
  await memory.put(packKey("s1"), concatBytes(parts));
  return { keys, raws, refs, memory, store: withFaults(memory) };
}

/** The chunks `refs` as `claim` reads them opened; throws when it would not. */
async function readOpened(claim: ClaimedStore, refs: ChunkRef[]): Promise<OpenedSlice[]> {
  const opened = claim.opened(packKey("s1"), refs);
  assert.ok(opened, "the run is opened on the opener's thread");
  const slices = await opened;
  assert.ok(slices, "the pack is there");
  return slices;
}

/** A test of an opener's thread, which needs a second core: a single-core machine skips it. */
function openerTest(name: string, test: () => Promise<void>): void {
  Deno.test({ name, ignore: navigator.hardwareConcurrency < 2 }, test);
}

openerTest(
  "with an opener on its thread, a run is fetched once and opened there, the next one ahead, and each claim reads its chunks opened",
  async () => {
    const { keys, raws, refs, store } = await sealedPack();
    using opener = createBoxOpener(keys, { offloadAfterBytes: 0 });
    const idKey = keys.idKey;
    const prefetch = createPackRunPrefetch(
      store,
      [[0, 1], [2], [3, 4, 5]].map((files) => ({ refs: files.map((i) => refs[i]), idKey })),
      { opener },
    );
    assert.equal(prefetch.runs, 2);
    using first = prefetch.claim([refs[0], refs[1]]);
    using second = prefetch.claim([refs[2]]);
    using third = prefetch.claim([refs[3], refs[4], refs[5]]);
    const firstRead = await readOpened(first, [refs[0], refs[1]]);
    assert.equal(store.calls.getRange, 2, "reading the first run fetched the next one ahead");
    const opened = [
      ...firstRead,
      ...await readOpened(second, [refs[2]]),
      ...await readOpened(third, [refs[3], refs[4], refs[5]]),
    ];
    for (const [i, slice] of opened.entries()) {
      assert.ok(!(slice instanceof TcfsError), `chunk ${i}: ${slice}`);
      assert.deepEqual(slice.bytes, raws[i], `chunk ${i}`);
      assert.equal(slice.id, refs[i].id, `chunk ${i}`);
    }
    assert.equal(store.calls.getRange, 2, "one fetch per run");
    assert.equal(prefetch.bufferedBytes, 0, "every chunk was read: the budget is back");
  },
);

openerTest(
  "an opened run gives a damaged box's chunk its own error, a missing pack nothing, and an opener still in place no run",
  async () => {
    const { keys, raws, refs, memory, store } = await sealedPack();
    memory.objects.get(packKey("s1"))![refs[1].offset! + 30] ^= 1;
    using opener = createBoxOpener(keys, { offloadAfterBytes: 0 });
    const planned = [{ refs: refs.slice(0, 3), idKey: keys.idKey }];
    const prefetch = createPackRunPrefetch(store, planned, { opener });
    using claim = prefetch.claim(refs.slice(0, 3));
    const [good, damaged, after] = await readOpened(claim, refs.slice(0, 3));
    assert.ok(!(good instanceof TcfsError) && !(after instanceof TcfsError));
    assert.deepEqual([good.bytes, after.bytes], [raws[0], raws[2]]);
    assert.ok(damaged instanceof TcfsError && damaged.kind === "sealed_damaged", String(damaged));

    memory.objects.delete(packKey("s1"));
    const gone = createPackRunPrefetch(store, planned, { opener });
    using missing = gone.claim(refs.slice(0, 3));
    assert.equal(await missing.opened(packKey("s1"), refs.slice(0, 3)), undefined);

    using inPlace = createBoxOpener(keys);
    const small = createPackRunPrefetch(store, planned, { opener: inPlace });
    using plain = small.claim(refs.slice(0, 3));
    assert.equal(
      plain.opened(packKey("s1"), refs.slice(0, 3)),
      undefined,
      "read and opened as before",
    );
  },
);

openerTest(
  "an opened run's budget comes back chunk by chunk as each is read, once by a chunk two files share, and at once for a claim given up",
  async () => {
    const { keys, raws, refs, store } = await sealedPack();
    using opener = createBoxOpener(keys, { offloadAfterBytes: 0 });
    const [shared, alone, skipped] = [refs[0], refs[1], refs[2]];
    const idKey = keys.idKey;
    const prefetch = createPackRunPrefetch(
      store,
      [[shared, alone], [shared], [skipped]].map((files) => ({ refs: files, idKey })),
      { opener },
    );
    assert.equal(prefetch.runs, 1);
    using first = prefetch.claim([shared, alone]);
    using second = prefetch.claim([shared]);
    const given = prefetch.claim([skipped]);
    await readOpened(first, [shared, alone]);
    // Past the answers' own turn: the stored bytes come back once every slice was answered.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(
      prefetch.bufferedBytes,
      raws[0].length + raws[2].length,
      "the chunk read by its one reader is let go; the shared one waits for its second",
    );
    const [again] = await readOpened(second, [shared]);
    assert.ok(!(again instanceof TcfsError));
    assert.deepEqual(again.bytes, raws[0]);
    assert.equal(prefetch.bufferedBytes, raws[2].length);
    given[Symbol.dispose]();
    assert.equal(prefetch.bufferedBytes, 0);
    assert.equal(store.calls.getRange, 1);
  },
);

openerTest(
  "a slice past the end of a pack shorter than its index is a damaged chunk of its own",
  async () => {
    const { keys, raws, refs, memory, store } = await sealedPack();
    const pack = memory.objects.get(packKey("s1"))!;
    memory.objects.set(packKey("s1"), pack.slice(0, refs[2].offset! + refs[2].length! - 1));
    using opener = createBoxOpener(keys, { offloadAfterBytes: 0 });
    const planned = [{ refs: refs.slice(0, 3), idKey: keys.idKey }];
    using claim = createPackRunPrefetch(store, planned, { opener }).claim(refs.slice(0, 3));
    const [first, second, cut] = await readOpened(claim, refs.slice(0, 3));
    assert.ok(!(first instanceof TcfsError) && !(second instanceof TcfsError));
    assert.deepEqual([first.bytes, second.bytes], [raws[0], raws[1]]);
    assert.ok(cut instanceof TcfsError && cut.kind === "corrupt_chunk", String(cut));
    assert.match(cut.message, /the pack is too short/);
  },
);
