import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { createPackWriter, FORGET_AFTER, MAX_LANES } from "../../../core/sync/pack_writer.ts";
import { TcfsError } from "../../../core/errors.ts";
import { unsealStored } from "../../../core/crypto/sealed_object.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";
import { settlesWithin } from "../../support/deadlines.ts";

async function withStore(fn: (store: ObjectStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-packs-" });
  const store = createFsStore(join(dir, "store"));
  try {
    await store.ensureReady();
    await fn(store);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const packKeys = (store: ObjectStore) => Array.fromAsync(store.list("packs/"), (i) => i.key);

Deno.test("chunks land in packs of the target size, and each ref reads back its chunk", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store, { targetBytes: 100_000 });
    const chunks = Array.from({ length: 10 }, (_, i) => randomBytes(30_000, 700 + i));
    const placed = [];
    for (const chunk of chunks) placed.push(await packs.place(await blake3Hex(chunk), chunk));
    packs.flush();
    await Promise.all(placed.map((p) => p.durable));
    // 30 kB of random data stays raw (plus a format byte): a pack seals at its 4th chunk.
    const perPack = Map.groupBy(placed, (p) => p.ref.pack);
    assert.deepEqual([...perPack.values()].map((group) => group.length), [4, 4, 2]);
    assert.deepEqual(
      (await packKeys(store)).sort(),
      [...perPack.keys()].map((id) => `packs/${id}`).sort(),
    );
    for (const [i, { ref }] of placed.entries()) {
      const stored = await store.getRange(`packs/${ref.pack}`, ref.offset!, ref.length!);
      assert.deepEqual(await decodeChunk(stored!), chunks[i]);
      assert.equal(ref.size, chunks[i].length);
    }
    assert.equal(packs.counters.chunksUploaded, 10);
    assert.equal(packs.counters.bytesUploaded, 10 * 30_001);
  });
});

Deno.test("a chunk is durable only once its pack is in the store", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store);
    const chunk = randomBytes(50_000, 11);
    const { ref, durable } = await packs.place(await blake3Hex(chunk), chunk);
    let settled = false;
    durable.then(() => settled = true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(settled, false, "an open pack is not durable");
    assert.deepEqual(await packKeys(store), []);
    packs.flush();
    await durable;
    assert.deepEqual(await packKeys(store), [`packs/${ref.pack}`]);
  });
});

Deno.test("the same chunk placed twice is stored once", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store);
    const chunk = randomBytes(40_000, 12);
    const id = await blake3Hex(chunk);
    const [first, second] = await Promise.all([packs.place(id, chunk), packs.place(id, chunk)]);
    assert.deepEqual(first.ref, second.ref);
    packs.flush();
    await first.durable;
    assert.equal(packs.counters.chunksUploaded, 1);
  });
});

Deno.test("a forgotten chunk is placed anew once enough others were forgotten after it; the rest are placed once", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store);
    const [a, b] = [randomBytes(40_000, 15), randomBytes(40_000, 16)];
    const [idA, idB] = await Promise.all([blake3Hex(a), blake3Hex(b)]);
    const first = await packs.place(idA, a);
    await packs.place(idB, b);
    packs.forget([first.ref]);
    assert.equal((await packs.place(idA, a)).ref.offset, 0, "still known just after");
    const others = Array.from(
      { length: 2 * FORGET_AFTER },
      (_, i) => ({ ...first.ref, id: `${i}` }),
    );
    packs.forget(others);
    const again = await packs.place(idA, a);
    assert.notEqual(again.ref.offset, first.ref.offset, "placed a second time");
    assert.equal((await packs.place(idB, b)).ref.offset, a.length + 1, "still where it was");
    packs.flush();
    await again.durable;
    assert.equal(packs.counters.chunksUploaded, 3);
  });
});

Deno.test("a failed pack upload rejects its chunks' durability and stops later placements", async () => {
  await withStore(async (inner) => {
    const refused = new TcfsError("cannot reach S3 at http://127.0.0.1:1: connection refused", {
      kind: "store_unreachable",
    });
    const store: ObjectStore = { ...inner, put: () => Promise.reject(refused) };
    const packs = createPackWriter(store, { targetBytes: 10_000 });
    const chunk = randomBytes(20_000, 13);
    const { durable } = await packs.place(await blake3Hex(chunk), chunk);
    await assert.rejects(durable, /connection refused/);
    const next = randomBytes(20_000, 14);
    await assert.rejects(packs.place(await blake3Hex(next), next), /connection refused/);
    assert.deepEqual(await packKeys(inner), []);
  });
});

const text = (lines: number) => new TextEncoder().encode("a line that repeats\n".repeat(lines));

Deno.test("bytes handed over are freed once the pack needs them no more, and read back whole", async () => {
  await withStore(async (store) => {
    const keys = await testFleetKeys();
    const sealing = createPackWriter(store, { keys });
    // A chunk compressed by the writer, one stored raw, and one placed twice: sealed, none of
    // the bytes given stays in the pack.
    const chunks = [text(4000), randomBytes(50_000, 31), randomBytes(40_000, 32)];
    const copies = chunks.map((c) => c.slice());
    const ids = await Promise.all(chunks.map((c) => blake3Hex(c)));
    const again = chunks[2].slice();
    const placed = [];
    for (const [i, chunk] of chunks.entries()) {
      placed.push(await sealing.place(ids[i], chunk, undefined, true));
    }
    placed.push(await sealing.place(ids[2], again, undefined, true));
    assert.deepEqual([...chunks, again].map((c) => c.length), [0, 0, 0, 0], "freed once placed");
    sealing.flush();
    await Promise.all(placed.map((p) => p.durable));
    for (const [i, { ref }] of placed.entries()) {
      const box = await store.getRange(`packs/${ref.pack}`, ref.offset!, ref.length!);
      const raw = await decodeChunk(await unsealStored(keys, box!, ref.id));
      assert.deepEqual(raw, copies[Math.min(i, 2)], `chunk ${i} reads back`);
      assert.equal(ref.size, copies[Math.min(i, 2)].length);
    }

    // Plaintext: a raw chunk is the pack's until it is sealed; a compressed one goes at once.
    const plain = createPackWriter(store);
    const random = randomBytes(50_000, 33);
    const lines = text(3000);
    const [randomCopy, linesCopy] = [random.slice(), lines.slice()];
    const kept = await plain.place(await blake3Hex(random), random, undefined, true);
    const compressed = await plain.place(await blake3Hex(lines), lines, undefined, true);
    assert.equal(random.length, 50_000, "held by the open pack");
    assert.equal(lines.length, 0, "its compressed frame is what the pack holds");
    plain.flush();
    assert.equal(random.length, 0, "copied into the pack's body, then freed");
    await Promise.all([kept.durable, compressed.durable]);
    for (const [{ ref }, copy] of [[kept, randomCopy], [compressed, linesCopy]] as const) {
      const stored = await store.getRange(`packs/${ref.pack}`, ref.offset!, ref.length!);
      assert.deepEqual(await decodeChunk(stored!), copy);
    }
  });
});

Deno.test("bytes not handed over are left as they were", async () => {
  await withStore(async (store) => {
    const keys = await testFleetKeys();
    const packs = createPackWriter(store, { keys });
    const chunk = text(4000);
    const copy = chunk.slice();
    const { durable } = await packs.place(await blake3Hex(chunk), chunk);
    packs.flush();
    await durable;
    assert.deepEqual(chunk, copy);
  });
});

Deno.test("each lane packs its file's chunks side by side while files are placed in turns", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store, { targetBytes: 100_000 });
    const files = [0, 1].map((f) =>
      Array.from({ length: 6 }, (_, i) => randomBytes(30_000, f * 10 + i))
    );
    const lanes = await Promise.all(files.map(() => packs.lane()));
    const placed: Awaited<ReturnType<typeof packs.place>>[][] = [[], []];
    // Alternately, as two files saved at once place their chunks.
    for (let i = 0; i < 6; i++) {
      for (const f of [0, 1]) {
        placed[f].push(await lanes[f].place(await blake3Hex(files[f][i]), files[f][i]));
      }
    }
    lanes.forEach((lane) => lane[Symbol.dispose]());
    // Sealed by their lanes, without the push's flush.
    await settlesWithin(
      Promise.all(placed.flat().map((p) => p.durable)),
      5_000,
      "the lanes to store their packs",
    );
    for (const [f, refs] of placed.entries()) {
      const packIds = new Set(refs.map((p) => p.ref.pack));
      assert.equal(packIds.size, 2, `file ${f}: a full pack and its tail`);
      for (const [i, { ref }] of refs.entries()) {
        const before = refs[i - 1]?.ref;
        if (before?.pack === ref.pack) assert.equal(ref.offset, before.offset! + before.length!);
        const stored = await store.getRange(`packs/${ref.pack}`, ref.offset!, ref.length!);
        assert.deepEqual(await decodeChunk(stored!), files[f][i]);
      }
    }
    const lanePacks = new Set(placed.flat().map((p) => p.ref.pack));
    assert.deepEqual(
      (await packKeys(store)).sort(),
      [...lanePacks].map((id) => `packs/${id}`).sort(),
    );
  });
});

Deno.test("files wait for a lane while MAX_LANES are open, and get one in turn as lanes are let go", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store);
    const lanes = await Promise.all(Array.from({ length: MAX_LANES }, () => packs.lane()));
    const turns: number[] = [];
    const waiting = [0, 1].map((i) => packs.lane().then((lane) => (turns.push(i), lane)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(turns, [], "no lane is free");
    const chunks = lanes.map((_, i) => randomBytes(20_000, 40 + i));
    const placed = await Promise.all(
      lanes.map(async (lane, i) => lane.place(await blake3Hex(chunks[i]), chunks[i])),
    );
    assert.equal(new Set(placed.map((p) => p.ref.pack)).size, MAX_LANES);
    lanes[0][Symbol.dispose]();
    const first = await settlesWithin(waiting[0], 5_000, "the first waiter's lane");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(turns, [0], "one lane let go, one waiter served, the first");
    lanes[1][Symbol.dispose]();
    const second = await settlesWithin(waiting[1], 5_000, "the second waiter's lane");
    assert.deepEqual(turns, [0, 1]);
    await settlesWithin(Promise.all(placed.map((p) => p.durable)), 5_000, "the lanes' packs");
    first[Symbol.dispose]();
    second[Symbol.dispose]();
  });
});

Deno.test("a lane let go after its file failed is free again", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store);
    const saveFailing = async () => {
      using lane = await packs.lane();
      const chunk = randomBytes(20_000, 70);
      await lane.place(await blake3Hex(chunk), chunk);
      throw new Error("the file changed while it was being read");
    };
    for (let i = 0; i <= MAX_LANES; i++) {
      await assert.rejects(settlesWithin(saveFailing(), 5_000, `lane ${i}`), /changed/);
    }
  });
});

Deno.test("a chunk placed in a lane that closes while it is being sealed goes to the common pack", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store, { keys: await testFleetKeys() });
    const lane = await packs.lane();
    const chunk = randomBytes(20_000, 71);
    // Sealing the chunk is asynchronous: the lane is let go before the chunk reaches a pack.
    const placing = lane.place(await blake3Hex(chunk), chunk);
    lane[Symbol.dispose]();
    const late = await placing;
    const other = randomBytes(20_000, 72);
    const common = await packs.place(await blake3Hex(other), other);
    assert.equal(late.ref.pack, common.ref.pack);
    packs.flush();
    await settlesWithin(Promise.all([late.durable, common.durable]), 5_000, "the common pack");
  });
});

Deno.test("a chunk placed in a lane after it was let go goes to the common pack", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store);
    const lane = await packs.lane();
    const chunks = [randomBytes(20_000, 73), randomBytes(20_000, 74), randomBytes(20_000, 75)];
    const first = await lane.place(await blake3Hex(chunks[0]), chunks[0]);
    lane[Symbol.dispose]();
    const late = await lane.place(await blake3Hex(chunks[1]), chunks[1]);
    const common = await packs.place(await blake3Hex(chunks[2]), chunks[2]);
    assert.notEqual(first.ref.pack, common.ref.pack);
    assert.equal(late.ref.pack, common.ref.pack);
    packs.flush();
    await settlesWithin(
      Promise.all([first.durable, late.durable, common.durable]),
      5_000,
      "the lane's pack and the common pack",
    );
  });
});

Deno.test("with no lanes, large files share the common pack as before lanes", async () => {
  await withStore(async (store) => {
    const packs = createPackWriter(store, { lanes: 0 });
    const [a, b] = await Promise.all([packs.lane(), packs.lane()]);
    const [x, y] = [randomBytes(20_000, 50), randomBytes(20_000, 51)];
    const placed = [
      await a.place(await blake3Hex(x), x),
      await b.place(await blake3Hex(y), y),
    ];
    a[Symbol.dispose]();
    b[Symbol.dispose]();
    assert.equal(placed[0].ref.pack, placed[1].ref.pack);
    packs.flush();
    await Promise.all(placed.map((p) => p.durable));
  });
});
