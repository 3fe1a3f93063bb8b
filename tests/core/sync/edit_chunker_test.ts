import assert from "node:assert/strict";
import { concatBytes } from "../../../core/encoding/concat_bytes.ts";
import { chunkStream, DEFAULT_CHUNK_SIZES } from "../../../core/chunking/fastcdc.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { chunkAgainst, type PrintedChunk } from "../../../core/sync/edit_chunker.ts";
import type { ByteReader } from "../../../core/io/byte_reader.ts";
import { randomBytes } from "../../support/random_bytes.ts";

/** Serves `data` in pieces of an awkward size, as a file read may. */
function readerOf(data: Uint8Array, piece = 100_003): ByteReader {
  let at = 0;
  return {
    read(into) {
      if (at === data.length) return Promise.resolve(null);
      const n = Math.min(into.length, piece, data.length - at);
      into.set(data.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

async function fullPassIds(data: Uint8Array): Promise<string[]> {
  const ids: string[] = [];
  for await (const chunk of chunkStream(ReadableStream.from([data]))) {
    ids.push(await blake3Hex(chunk));
  }
  return ids;
}

/** Chunks `data` against `previous`: the ids in order, how many were hashed anew, and the prints. */
async function chunkEdited(data: Uint8Array, previous: PrintedChunk[]) {
  const ids: string[] = [];
  const printed: PrintedChunk[] = [];
  let fresh = 0;
  for await (const next of chunkAgainst(readerOf(data), previous)) {
    if (next.kind === "fresh") {
      fresh++;
      const id = await blake3Hex(next.bytes);
      ids.push(id);
      printed.push({ id, size: next.bytes.length, print: next.print });
    } else {
      ids.push(next.chunk.id);
      printed.push(next.chunk);
    }
  }
  return { ids, fresh, printed };
}

const concat = (...parts: Uint8Array[]) => concatBytes(parts);

Deno.test("chunking against the last version gives a full pass's chunks, hashing only the edit", async () => {
  const base = randomBytes(8 << 20, 51);
  const first = await chunkEdited(base, []);
  assert.deepEqual(first.ids, await fullPassIds(base));
  assert.equal(first.fresh, first.ids.length);
  const overwritten = base.slice();
  overwritten.set(randomBytes(1 << 20, 52), 3 << 20);
  const edits: [string, Uint8Array, number][] = [
    ["unchanged", base, 0],
    ["1 MiB overwritten in the middle", overwritten, 8],
    [
      "10 bytes inserted near the start",
      concat(base.subarray(0, 5000), randomBytes(10, 53), base.subarray(5000)),
      3,
    ],
    ["1,000 bytes deleted", concat(base.subarray(0, 4 << 20), base.subarray((4 << 20) + 1000)), 3],
    ["300 KiB appended", concat(base, randomBytes(300 << 10, 54)), 3],
    ["cut to half", base.subarray(0, 4 << 20), 2],
    ["a prefix added", concat(randomBytes(70_000, 55), base), 3],
  ];
  for (const [name, edited, mostFresh] of edits) {
    const { ids, fresh } = await chunkEdited(edited, first.printed);
    assert.deepEqual(ids, await fullPassIds(edited), name);
    assert.ok(
      fresh <= mostFresh,
      `${name}: ${fresh} chunks hashed anew, expected at most ${mostFresh}`,
    );
  }
});

Deno.test("a fingerprint that no longer matches falls back to content-defined chunking", async () => {
  const base = randomBytes(3 << 20, 56);
  const { printed } = await chunkEdited(base, []);
  // Fingerprints that match no content: no previous chunk may be named, and the cuts
  // must still be a full pass's.
  const stale = printed.map((chunk) => ({ ...chunk, print: "0".repeat(32) }));
  const { ids, fresh } = await chunkEdited(base, stale);
  assert.deepEqual(ids, await fullPassIds(base));
  assert.equal(fresh, printed.length, "no chunk is reused on a fingerprint that does not match");
});

Deno.test("chunks moved elsewhere put the walk back in step by their fingerprint", async () => {
  const base = randomBytes(4 << 20, 57);
  const { printed } = await chunkEdited(base, []);
  // The first MiB moves to the end: the chunks after the old first MiB are found in
  // step, and the moved ones are found by fingerprint once their cuts come round.
  const moved = concat(base.subarray(1 << 20), base.subarray(0, 1 << 20));
  const { ids, fresh } = await chunkEdited(moved, printed);
  assert.deepEqual(ids, await fullPassIds(moved));
  // Only chunks near the two seams are hashed (8 of 13 with this seed: 6 new ones and
  // the 2 that put the walk back in step, which the caller's BLAKE3 then finds): each seam's cut
  // is found again within a few chunks.
  assert.ok(fresh <= 8, `${fresh} of ${ids.length} chunks hashed anew, expected at most 8`);
});

Deno.test("a file smaller than the largest chunk, read in a window of its size, gives a full pass's chunks", async () => {
  const max = DEFAULT_CHUNK_SIZES.max;
  for (const [i, size] of [1, 20_000, 100_000, 300_000, max - 2, max - 1, max].entries()) {
    const data = randomBytes(size, 1200 + i);
    const ids = [];
    for await (const next of chunkAgainst(readerOf(data, 7_001), [], size)) {
      assert.equal(next.kind, "fresh");
      if (next.kind === "fresh") ids.push(await blake3Hex(next.bytes));
    }
    assert.deepEqual(ids, await fullPassIds(data), `${size} bytes`);
  }
});

Deno.test("a small file that grew past the size it was opened with still comes out whole", async () => {
  // The saver refuses it afterwards (its size changed); the chunker must neither hang nor drop bytes.
  for (const [i, [opened, now]] of [[20_000, 3_000_000], [500_000, 600_000]].entries()) {
    const data = randomBytes(now, 1300 + i);
    const pieces = [];
    for await (const next of chunkAgainst(readerOf(data), [], opened)) {
      if (next.kind === "fresh") pieces.push(next.bytes);
    }
    assert.deepEqual(concatBytes(pieces), data, `opened at ${opened}, now ${now}`);
  }
});
