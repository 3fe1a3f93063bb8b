import assert from "node:assert/strict";
import { allZero } from "../../../core/io/zero_bytes.ts";

Deno.test("allZero finds a set byte anywhere, at any alignment of the view", () => {
  const buffer = new Uint8Array(4096 + 16);
  for (const start of [0, 1, 3, 7, 8, 9]) {
    for (const length of [0, 1, 7, 8, 15, 4096]) {
      const view = buffer.subarray(start, start + length);
      assert.equal(allZero(view), true, `${start}+${length}`);
      for (const at of new Set([0, length >> 1, length - 1].filter((i) => i >= 0 && i < length))) {
        view[at] = 1;
        assert.equal(allZero(view), false, `${start}+${length} set at ${at}`);
        view[at] = 0;
      }
    }
  }
});
