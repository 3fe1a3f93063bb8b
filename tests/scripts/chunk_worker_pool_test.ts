import assert from "node:assert/strict";
import { decodeChunk, encodeChunk } from "../../core/chunking/chunk_codec.ts";
import { ChunkWorkerPool } from "../../scripts/bench/chunk_worker_pool.ts";
import { TcfsError } from "../../core/errors.ts";
import { blake3Hex } from "../../core/hashing/blake3.ts";
import { randomBytes } from "../support/random_bytes.ts";

function textBytes(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const lines = Array.from({ length: size / 20 }, (_, i) => `${seed} line ${i % 97}\n`);
  return new TextEncoder().encode(lines.join("")).slice(0, size);
}

Deno.test("the pool returns the ids and stored forms the main thread computes", async () => {
  using pool = new ChunkWorkerPool(2);
  const chunks = Array.from(
    { length: 24 },
    (_, i) => i % 2 ? randomBytes(70_000 + i * 1000, i) : textBytes(90_000 + i * 100, i),
  ) as Uint8Array<ArrayBuffer>[];
  const expected = await Promise.all(chunks.map(async (chunk) => ({
    id: await blake3Hex(chunk),
    stored: await encodeChunk(chunk, { level: 2 }),
  })));
  const originals = chunks.map((chunk) => chunk.slice());
  const prepared = await Promise.all(chunks.map((chunk) => pool.prepare(chunk, { level: 2 })));
  assert.deepEqual(prepared, expected);
  for (const [i, { stored }] of prepared.entries()) {
    assert.deepEqual(await decodeChunk(stored), originals[i]);
  }
});

Deno.test("a chunk that owns its buffer moves to the worker; a view is copied", async () => {
  using pool = new ChunkWorkerPool(1);
  const owned = randomBytes(50_000, 1) as Uint8Array<ArrayBuffer>;
  const ownedId = await blake3Hex(owned);
  assert.equal((await pool.prepare(owned)).id, ownedId);
  assert.equal(owned.byteLength, 0, "the buffer was not transferred");

  const whole = randomBytes(100_000, 2) as Uint8Array<ArrayBuffer>;
  const view = whole.subarray(10_000, 60_000);
  assert.equal((await pool.prepare(view)).id, await blake3Hex(view));
  assert.equal(whole.byteLength, 100_000, "the larger buffer was detached");
});

Deno.test("a closed pool rejects jobs, including unanswered ones", async () => {
  const pool = new ChunkWorkerPool(1);
  const unanswered = pool.prepare(textBytes(1_000_000, 3));
  pool.close();
  await assert.rejects(unanswered, /closed/);
  await assert.rejects(pool.prepare(textBytes(1000, 4)), /after close/);
});

Deno.test("a pool of no workers is refused", () => {
  assert.throws(() => new ChunkWorkerPool(0), TcfsError);
});
