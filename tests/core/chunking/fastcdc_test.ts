import assert from "node:assert/strict";
import {
  type ChunkSizes,
  chunkStream,
  DEFAULT_CHUNK_SIZES,
  findChunkBoundary,
} from "../../../core/chunking/fastcdc.ts";
import { TcfsError } from "../../../core/errors.ts";
import { concatBytes } from "../../../core/encoding/concat_bytes.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { randomBytes } from "../../support/random_bytes.ts";

const MIB = 1024 * 1024;
const SMALL_SIZES: ChunkSizes = { min: 256, avg: 1024, max: 4096 };

/** Piece sizes in [1, limit], from seeded random words, so every failure reproduces. */
function randomSizes(limit: number, seed: number): () => number {
  const words = new Uint32Array(randomBytes(4 * 4096, seed).buffer);
  let i = 0;
  return () => 1 + words[i++ % words.length] % limit;
}

/** Yields `data` in pieces whose sizes `pieceSize` picks. */
async function* inPieces(
  data: Uint8Array,
  pieceSize: () => number,
): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length;) {
    const size = Math.min(pieceSize(), data.length - at);
    yield data.slice(at, at + size);
    at += size;
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

function lengths(chunks: Uint8Array[]): number[] {
  return chunks.map((chunk) => chunk.length);
}

/** Chunk lengths found by cutting the whole buffer with findChunkBoundary. */
function referenceLengths(data: Uint8Array, sizes: ChunkSizes): number[] {
  const out: number[] = [];
  for (let at = 0; at < data.length;) {
    const cut = findChunkBoundary(data.subarray(at), sizes);
    out.push(cut);
    at += cut;
  }
  return out;
}

function assertSizesWithinLimits(chunks: Uint8Array[], sizes: ChunkSizes): void {
  chunks.forEach((chunk, i) => {
    const isLast = i === chunks.length - 1;
    assert.ok(chunk.length > 0, `chunk ${i} is empty`);
    assert.ok(chunk.length <= sizes.max, `chunk ${i} has ${chunk.length} > max bytes`);
    if (!isLast) assert.ok(chunk.length >= sizes.min, `chunk ${i} has ${chunk.length} < min`);
  });
}

/** What a re-push of `after` uploads when the store holds `before`'s chunks. */
interface Rechunked {
  freshBytes: number;
  /** Indexes of `after`'s chunks that `before` does not have. */
  freshIndexes: number[];
}

async function rechunk(before: Uint8Array, after: Uint8Array): Promise<Rechunked> {
  const known = new Set<string>();
  for await (const chunk of chunkStream(inPieces(before, () => MIB))) {
    known.add(await blake3Hex(chunk));
  }
  const result: Rechunked = { freshBytes: 0, freshIndexes: [] };
  let index = 0;
  for await (const chunk of chunkStream(inPieces(after, () => MIB))) {
    if (!known.has(await blake3Hex(chunk))) {
      result.freshBytes += chunk.length;
      result.freshIndexes.push(index);
    }
    index++;
  }
  return result;
}

function insert(data: Uint8Array, at: number, inserted: Uint8Array): Uint8Array {
  return concatBytes([data.subarray(0, at), inserted, data.subarray(at)]);
}

Deno.test("chunkStream yields nothing for an empty source", async () => {
  assert.deepEqual(await collect(chunkStream(inPieces(new Uint8Array(0), () => 1))), []);
  assert.deepEqual(await collect(chunkStream(new Blob([]).stream())), []);
});

Deno.test("chunks concatenate back to the input and respect min and max", async () => {
  const dataSize = randomSizes(40_000, 11);
  const pieceSize = randomSizes(5000, 12);
  for (let iteration = 0; iteration < 200; iteration++) {
    const data = randomBytes(dataSize(), iteration);
    const chunks = await collect(chunkStream(inPieces(data, pieceSize), SMALL_SIZES));
    assert.deepEqual(concatBytes(chunks), data, `iteration ${iteration}`);
    assertSizesWithinLimits(chunks, SMALL_SIZES);
  }
});

Deno.test("default sizes: chunks are within [64 KiB, 1 MiB] and average near 256 KiB", async () => {
  const data = randomBytes(24 * MIB, 5);
  const chunks = await collect(chunkStream(inPieces(data, () => 4 * MIB)));
  assert.deepEqual(concatBytes(chunks), data);
  assertSizesWithinLimits(chunks, DEFAULT_CHUNK_SIZES);
  const mean = data.length / chunks.length;
  assert.ok(mean > 200 * 1024 && mean < 400 * 1024, `mean chunk size ${mean}`);
});

Deno.test("chunking does not depend on the sizes of the pieces read", async () => {
  const cases: [string, ChunkSizes, Uint8Array, () => number][] = [
    ["1-byte pieces", SMALL_SIZES, randomBytes(200_000, 1), () => 1],
    ["1-byte pieces, default sizes", DEFAULT_CHUNK_SIZES, randomBytes(2 * MIB + 99, 2), () => 1],
    ["7-byte pieces", DEFAULT_CHUNK_SIZES, randomBytes(3 * MIB + 1, 3), () => 7],
    ["64 KiB pieces", DEFAULT_CHUNK_SIZES, randomBytes(5 * MIB + 7, 4), () => 64 * 1024],
    ["random pieces", DEFAULT_CHUNK_SIZES, randomBytes(5 * MIB, 5), randomSizes(MIB, 3)],
    ["pieces larger than max", DEFAULT_CHUNK_SIZES, randomBytes(9 * MIB, 6), () => 3 * MIB + 1],
    ["random pieces, small sizes", SMALL_SIZES, randomBytes(300_000, 7), randomSizes(9000, 4)],
  ];
  for (const [name, sizes, data, pieceSize] of cases) {
    const chunks = await collect(chunkStream(inPieces(data, pieceSize), sizes));
    assert.deepEqual(lengths(chunks), referenceLengths(data, sizes), name);
    assert.deepEqual(concatBytes(chunks), data, name);
  }
});

Deno.test("chunkStream reads a ReadableStream like any async iterable", async () => {
  const data = randomBytes(3 * MIB, 8);
  const fromStream = await collect(chunkStream(new Blob([data.slice()]).stream()));
  assert.deepEqual(lengths(fromStream), referenceLengths(data, DEFAULT_CHUNK_SIZES));
});

Deno.test("chunkStream reads a ByteReader, such as a file, into its own buffer", async () => {
  const data = randomBytes(5 * MIB + 3, 10);
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, data);
    using file = await Deno.open(path);
    const fromFile = await collect(chunkStream(file));
    assert.deepEqual(lengths(fromFile), referenceLengths(data, DEFAULT_CHUNK_SIZES));
    assert.deepEqual(concatBytes(fromFile), data);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("chunking does not depend on how much each read returns", async () => {
  const data = randomBytes(3 * MIB + 5, 11);
  const readSize = randomSizes(200_000, 13);
  let at = 0;
  const shortReads = {
    read(into: Uint8Array): Promise<number | null> {
      if (at === data.length) return Promise.resolve(null);
      const size = Math.min(readSize(), into.length, data.length - at);
      into.set(data.subarray(at, at + size));
      at += size;
      return Promise.resolve(size);
    },
  };
  const chunks = await collect(chunkStream(shortReads));
  assert.deepEqual(lengths(chunks), referenceLengths(data, DEFAULT_CHUNK_SIZES));
  assert.deepEqual(concatBytes(chunks), data);
});

Deno.test("stopping early cancels a stream source but leaves a reader open", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull: (controller) => controller.enqueue(randomBytes(MIB, 12)),
    cancel: () => {
      cancelled = true;
    },
  });
  for await (const _ of chunkStream(stream)) break;
  assert.ok(cancelled, "the stream was not cancelled");

  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, randomBytes(4 * MIB, 13));
    using file = await Deno.open(path);
    for await (const _ of chunkStream(file)) break;
    assert.ok((await file.read(new Uint8Array(16))) !== null, "the file was closed");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("chunks are fresh arrays that stay valid after later chunks are read", async () => {
  const data = randomBytes(6 * MIB, 9);
  const chunks = await collect(chunkStream(inPieces(data, () => 100_000)));
  assert.ok(chunks.length > 3);
  assert.equal(new Set(chunks.map((chunk) => chunk.buffer)).size, chunks.length);
  assert.deepEqual(concatBytes(chunks), data);
});

Deno.test("chunkStream reads at most about 2 x max bytes ahead of what it has yielded", async () => {
  const pieceSize = 100_000;
  let pulled = 0;
  async function* counting(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 200; i++) {
      pulled += pieceSize;
      yield randomBytes(pieceSize, i);
    }
  }
  let yielded = 0;
  let maxAhead = 0;
  for await (const chunk of chunkStream(counting())) {
    yielded += chunk.length;
    maxAhead = Math.max(maxAhead, pulled - yielded);
  }
  assert.equal(yielded, 200 * pieceSize);
  assert.ok(maxAhead <= 2 * DEFAULT_CHUNK_SIZES.max + pieceSize, `read ${maxAhead} bytes ahead`);
});

Deno.test("findChunkBoundary: short input is one chunk, and max is forced", () => {
  assert.equal(findChunkBoundary(new Uint8Array(0), SMALL_SIZES), 0);
  assert.equal(findChunkBoundary(randomBytes(256, 1), SMALL_SIZES), 256);
  assert.equal(findChunkBoundary(randomBytes(100, 1), SMALL_SIZES), 100);
  // A run of one byte value never matches the masks, so every cut is forced at max.
  assert.equal(findChunkBoundary(new Uint8Array(3 * MIB), DEFAULT_CHUNK_SIZES), MIB);
  assert.deepEqual(referenceLengths(new Uint8Array(2.5 * MIB), DEFAULT_CHUNK_SIZES), [
    MIB,
    MIB,
    MIB / 2,
  ]);
});

Deno.test("boundaries are part of the protocol: a fixed input keeps its chunk lengths", () => {
  // If this fails, the gear table or the cut rules changed, and with them every chunk id.
  // The input comes from a formula here, not a shared helper, so only chunking can move it.
  const data = Uint8Array.from(
    { length: 3 * MIB },
    (_, i) => Math.imul(i ^ (i >>> 11), 0x9e3779b1) >>> 24,
  );
  assert.deepEqual(referenceLengths(data, DEFAULT_CHUNK_SIZES), [
    262588,
    263307,
    522945,
    100132,
    382779,
    287658,
    210048,
    246298,
    280617,
    137340,
    347844,
    104172,
  ]);
});

Deno.test("inserting 10 bytes near the start changes only the first chunks", async () => {
  for (const seed of [1, 2, 3, 4]) {
    const before = randomBytes(8 * MIB, seed);
    const after = insert(before, 1000 + seed * 7777, randomBytes(10, 99));
    const { freshBytes, freshIndexes } = await rechunk(before, after);
    assert.ok(freshIndexes.every((index) => index < 3), `seed ${seed}: fresh ${freshIndexes}`);
    assert.ok(freshBytes > 0 && freshBytes <= 3 * MIB, `seed ${seed}: ${freshBytes} fresh bytes`);
  }
});

Deno.test("inserting 10 bytes mid-file re-chunks at most 3 MiB of 8 MiB", async () => {
  for (const seed of [5, 6, 7]) {
    const before = randomBytes(8 * MIB, seed);
    const after = insert(before, 4 * MIB + seed * 1001, randomBytes(10, 98));
    const { freshBytes } = await rechunk(before, after);
    assert.ok(freshBytes > 0 && freshBytes <= 3 * MIB, `seed ${seed}: ${freshBytes} fresh bytes`);
  }
});

Deno.test("overwriting 1 MiB mid-file re-chunks at most 3 MiB of 8 MiB", async () => {
  for (const seed of [4, 5, 6, 7]) {
    const before = randomBytes(8 * MIB, seed);
    const after = before.slice();
    after.set(randomBytes(MIB, seed + 100), 3.5 * MIB);
    const { freshBytes } = await rechunk(before, after);
    assert.ok(freshBytes >= MIB && freshBytes <= 3 * MIB, `seed ${seed}: ${freshBytes} bytes`);
  }
});

Deno.test("invalid chunk sizes are refused with a TcfsError", () => {
  for (const sizes of [{ min: 0, avg: 1024, max: 4096 }, { min: 4096, avg: 1024, max: 8192 }]) {
    assert.throws(() => findChunkBoundary(new Uint8Array(10), sizes), TcfsError);
  }
});

Deno.test("an error from the source reaches the consumer", async () => {
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield randomBytes(3 * MIB, 14);
    throw new Error("disk gone");
  }
  const chunks: Uint8Array[] = [];
  await assert.rejects(async () => {
    for await (const chunk of chunkStream(failing())) chunks.push(chunk);
  }, /disk gone/);
  assert.ok(chunks.length >= 1, "chunks before the failure were not yielded");
});
