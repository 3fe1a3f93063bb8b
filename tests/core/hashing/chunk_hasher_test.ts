import assert from "node:assert/strict";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import {
  type ChunkHasher,
  createChunkHasher,
  IN_PLACE_BELOW_BYTES,
} from "../../../core/hashing/chunk_hasher.ts";
import {
  CHUNK_FORMAT_RAW,
  CHUNK_FORMAT_ZSTD,
  decodeChunk,
} from "../../../core/chunking/chunk_codec.ts";
import { concatBytes } from "../../../core/encoding/concat_bytes.ts";
import { randomBytes } from "../../support/random_bytes.ts";

/** Hashes throwaway chunks one by one until the worker has taken over (it starts in the background). */
async function untilOffloading(hasher: ChunkHasher): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (let seed = 1; hasher.bytesOffloaded === 0; seed++) {
    assert.ok(Date.now() < deadline, "the worker never took over");
    await hasher.hash(randomBytes(64 * 1024, seed));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A test of a hasher whose worker has taken over. The worker needs a second core: a
 * single-core machine always hashes in place, and skips these.
 */
function offloadingTest(
  name: string,
  offloadAfterBytes: number,
  test: (hasher: ChunkHasher) => Promise<void>,
): void {
  Deno.test({ name, ignore: navigator.hardwareConcurrency < 2 }, async () => {
    using hasher = createChunkHasher({ offloadAfterBytes });
    await untilOffloading(hasher);
    await test(hasher);
  });
}

offloadingTest(
  "past the threshold the worker hashes all but small chunks: same ids, and the bytes handed back",
  1 << 20,
  async (hasher) => {
    const chunks = Array.from({ length: 30 }, (_, i) => randomBytes(1 + i * 20_011, 300 + i));
    const copies = chunks.map((c) => c.slice());
    const offloadedBefore = hasher.bytesOffloaded;
    const answers = await Promise.all(chunks.map((c) => hasher.hash(c)));
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.id, await blake3Hex(copies[i]), `chunk ${i}'s id`);
      assert.deepEqual(answer.bytes, copies[i], `chunk ${i}'s bytes`);
    }
    const large = copies.filter((c) => c.length >= IN_PLACE_BELOW_BYTES);
    assert.ok(large.length > 0 && large.length < copies.length, "the test has both sizes");
    chunks.forEach((c, i) => {
      const small = copies[i].length < IN_PLACE_BELOW_BYTES;
      assert.equal(c.length, small ? copies[i].length : 0, `chunk ${i} stayed iff small`);
    });
    const largeBytes = large.reduce((n, c) => n + c.length, 0);
    assert.equal(
      hasher.bytesOffloaded - offloadedBefore,
      largeBytes,
      "only large chunks offloaded",
    );
  },
);

offloadingTest(
  "chunks bound for packs are encoded on the worker, decodably; others are not",
  0,
  async (hasher) => {
    const text = new TextEncoder().encode("a line of log text that repeats\n".repeat(8000));
    // Text compresses, random bytes are stored raw, and the last is not bound for a pack.
    const chunks = [text, randomBytes(200_000, 700), text.slice()];
    const copies = chunks.map((c) => c.slice());
    const answers = await Promise.all(
      chunks.map((c, i) => hasher.hash(c, { mayEncode: i < 2 })),
    );
    assert.deepEqual(answers.map((a) => a.encoded?.format), [
      CHUNK_FORMAT_ZSTD,
      CHUNK_FORMAT_RAW,
      undefined,
    ]);
    for (const [i, answer] of answers.entries()) {
      assert.deepEqual(answer.bytes, copies[i]);
      if (!answer.encoded) continue;
      const { format, payload } = answer.encoded;
      assert.deepEqual(await decodeChunk(concatBytes([Uint8Array.of(format), payload])), copies[i]);
    }
  },
);

Deno.test("below the threshold every chunk is hashed in place and keeps its memory", async () => {
  using hasher = createChunkHasher({ offloadAfterBytes: 64 << 20 });
  for (let seed = 400; seed < 410; seed++) {
    const chunk = randomBytes(300_000, seed);
    const answer = await hasher.hash(chunk, { mayEncode: true });
    assert.equal(answer.id, await blake3Hex(chunk));
    assert.equal(answer.bytes, chunk, "the same memory comes back");
    assert.equal(answer.encoded, undefined, "encoding is left to the pack writer");
  }
  assert.equal(hasher.bytesOffloaded, 0);
});

Deno.test("small chunks do not start the worker, however many: the first large ones after them are hashed in place", async () => {
  using hasher = createChunkHasher({ offloadAfterBytes: 1 << 20 });
  // 2 MiB of small chunks, twice the threshold.
  for (let seed = 1; seed <= 512; seed++) await hasher.hash(randomBytes(4096, seed));
  // Time enough for a worker started meanwhile to come up and take the next chunk.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const large = randomBytes(IN_PLACE_BELOW_BYTES * 4, 900);
  const answer = await hasher.hash(large);
  assert.equal(answer.bytes, large, "hashed in place: the same memory comes back");
  assert.equal(hasher.bytesOffloaded, 0);
});

offloadingTest(
  "more than the worker may hold at once waits for room, and every chunk is answered",
  0,
  async (hasher) => {
    // 48 × 512 KiB = 24 MiB given at once, more than the 16 MiB the worker may hold.
    const chunks = Array.from({ length: 48 }, (_, i) => randomBytes(512 * 1024, 800 + i));
    const expected = await Promise.all(chunks.map((c) => blake3Hex(c)));
    const before = hasher.bytesOffloaded;
    const answers = await Promise.all(chunks.map((c) => hasher.hash(c)));
    assert.deepEqual(answers.map((a) => a.id), expected);
    assert.equal(hasher.bytesOffloaded - before, 48 * 512 * 1024);
  },
);

offloadingTest(
  "a view of a larger buffer goes to the worker as a copy and is left as it was",
  0,
  async (hasher) => {
    const whole = randomBytes(1 << 20, 500);
    const view = whole.subarray(1000, 200_000);
    const before = hasher.bytesOffloaded;
    const { id, bytes } = await hasher.hash(view);
    assert.equal(id, await blake3Hex(view));
    assert.deepEqual(bytes, view);
    assert.equal(view.length, 199_000, "the view still holds its bytes");
    assert.equal(hasher.bytesOffloaded - before, 199_000);
  },
);

offloadingTest(
  "the worker keys each chunk's id as asked: keyed and plain chunks interleave",
  0,
  async (hasher) => {
    const idKey = randomBytes(32, 77);
    const chunks = Array.from({ length: 12 }, (_, i) => randomBytes(50_000 + i, 400 + i));
    const copies = chunks.map((c) => c.slice());
    const answers = await Promise.all(
      chunks.map((c, i) => hasher.hash(c, { idKey: i % 2 ? idKey : undefined })),
    );
    for (const [i, answer] of answers.entries()) {
      const expected = await blake3Hex(copies[i], i % 2 ? idKey : undefined);
      assert.equal(answer.id, expected, `chunk ${i}'s id`);
    }
    assert.ok(hasher.bytesOffloaded > 0);
  },
);

offloadingTest("a closed hasher refuses more work with a clear error", 0, async (hasher) => {
  hasher[Symbol.dispose]();
  await assert.rejects(hasher.hash(randomBytes(1000, 601)), /chunk hasher is closed/);
});
