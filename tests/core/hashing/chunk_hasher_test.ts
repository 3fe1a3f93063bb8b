import assert from "node:assert/strict";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { createChunkHasher } from "../../../core/hashing/chunk_hasher.ts";
import { randomBytes } from "../../support/random_bytes.ts";

/** Chunks of assorted sizes, each in a buffer of its own. */
function someChunks(count: number, seed: number): Uint8Array<ArrayBuffer>[] {
  return Array.from(
    { length: count },
    (_, i) => randomBytes(1 + ((i * 40_961) % 300_000), seed + i),
  );
}

Deno.test("chunks hashed on the worker get the same ids and bytes back, in order", async () => {
  const chunks = someChunks(40, 300);
  const expected = await Promise.all(chunks.map((c) => blake3Hex(c)));
  const copies = chunks.map((c) => c.slice());
  using hasher = createChunkHasher({ offloadAfterBytes: 1 << 20 });
  const answers = await Promise.all(chunks.map((c) => hasher.hash(c)));
  assert.deepEqual(answers.map((a) => a.id), expected);
  answers.forEach((a, i) => assert.deepEqual(a.bytes, copies[i], `chunk ${i}'s bytes`));
  assert.ok(hasher.bytesOffloaded > 0, "the worker hashed the chunks past the first MiB");
  const moved = chunks.filter((c) => c.length === 0).length;
  assert.ok(moved > 0 && moved < chunks.length, "only chunks past the first MiB moved away");
});

Deno.test("a push under the offload threshold never starts the worker", async () => {
  using hasher = createChunkHasher({ offloadAfterBytes: 64 << 20 });
  for (const chunk of someChunks(8, 400)) {
    assert.equal((await hasher.hash(chunk)).id, await blake3Hex(chunk));
  }
  assert.equal(hasher.bytesOffloaded, 0);
});

Deno.test("a view of a larger buffer is hashed as a copy and left as it was", async () => {
  const whole = randomBytes(1 << 20, 500);
  const view = whole.subarray(1000, 200_000);
  using hasher = createChunkHasher({ offloadAfterBytes: 0 });
  const { id, bytes } = await hasher.hash(view);
  assert.equal(id, await blake3Hex(whole.subarray(1000, 200_000)));
  assert.deepEqual(bytes, view);
  assert.equal(view.length, 199_000, "the view still holds its bytes");
  assert.equal(hasher.bytesOffloaded, 199_000);
});

Deno.test("a closed hasher refuses more work with a clear error", async () => {
  const hasher = createChunkHasher({ offloadAfterBytes: 0 });
  await hasher.hash(randomBytes(1000, 600));
  hasher[Symbol.dispose]();
  await assert.rejects(hasher.hash(randomBytes(1000, 601)), /chunk hasher is closed/);
});
