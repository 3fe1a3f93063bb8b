import assert from "node:assert/strict";
import { readBody } from "../../../core/io/read_body.ts";

/** A stream of `pieces`, as an HTTP client hands a body over. */
function streamOf(pieces: number[][]): ReadableStream<Uint8Array> {
  return ReadableStream.from(pieces.map((piece) => new Uint8Array(piece)));
}

Deno.test("readBody: pieces land in one buffer of the announced length", async () => {
  const body = await readBody(streamOf([[1, 2], [3], [4, 5, 6]]), 6);
  assert.deepEqual([...body], [1, 2, 3, 4, 5, 6]);
  assert.equal(body.buffer.byteLength, 6);
});

Deno.test("readBody: a body that ends early comes back short, for the caller to check", async () => {
  assert.deepEqual([...await readBody(streamOf([[1, 2]]), 5)], [1, 2]);
});

Deno.test("readBody: a body longer than announced is refused", async () => {
  await assert.rejects(readBody(streamOf([[1, 2], [3, 4]]), 3), /longer than the 3 bytes/);
});

Deno.test("readBody: a body of unknown length is joined whole, up to its limit", async () => {
  assert.deepEqual([...await readBody(streamOf([[1, 2], [3], [4]]), undefined)], [1, 2, 3, 4]);
  assert.deepEqual([...await readBody(streamOf([]), undefined)], []);
  await assert.rejects(
    readBody(streamOf([[1, 2], [3, 4]]), undefined, { maxBytes: 3 }),
    /longer than the 3 bytes it may have/,
  );
});

Deno.test("readBody: a body that goes silent is given up as timed out, and is cancelled", async () => {
  let cancelled = false;
  const stalled = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array([1, 2]));
    },
    cancel() {
      cancelled = true;
    },
  });
  await assert.rejects(readBody(stalled, 4, { idleMs: 50 }), (err: Error) => {
    assert.equal(err.name, "TimeoutError");
    return true;
  });
  assert.ok(cancelled);
  // A slow body that keeps sending is read whole.
  const slow = ReadableStream.from((async function* () {
    for (const byte of [1, 2, 3]) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      yield new Uint8Array([byte]);
    }
  })());
  assert.deepEqual([...await readBody(slow, 3, { idleMs: 60 })], [1, 2, 3]);
});
