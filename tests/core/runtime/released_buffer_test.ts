import assert from "node:assert/strict";
import { releaseBuffer } from "../../../core/runtime/released_buffer.ts";

Deno.test("a whole buffer is freed and reads as empty; a view into one is left alone", () => {
  const whole = new Uint8Array(1 << 20).fill(7);
  releaseBuffer(whole);
  assert.equal(whole.length, 0);
  assert.equal(whole.buffer.byteLength, 0);
  releaseBuffer(whole); // once detached, again is nothing

  const shared = new Uint8Array(1 << 20).fill(9);
  const view = shared.subarray(10, 1000);
  releaseBuffer(view);
  assert.equal(view.length, 990, "a part of a buffer is not the caller's alone");
  assert.equal(shared[0], 9);

  const prefix = shared.subarray(0, 1000);
  releaseBuffer(prefix);
  assert.equal(shared.length, 1 << 20, "nor is a prefix of it");
});
