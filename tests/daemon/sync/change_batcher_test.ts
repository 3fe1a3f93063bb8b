import assert from "node:assert/strict";
import { createChangeBatcher, maxBatchDelayMs } from "../../../daemon/sync/change_batcher.ts";

Deno.test("a batch is ready once changes stop for the debounce time", () => {
  let now = 1_000;
  const batcher = createChangeBatcher(() => 300, () => now);
  assert.equal(batcher.readyAt(), undefined);
  batcher.add(["a.txt"]);
  now += 200;
  batcher.add(["a.txt", "b.txt"]);
  assert.equal(batcher.size(), 2);
  assert.equal(batcher.readyAt(), 1_500);
  assert.deepEqual(batcher.take(), { paths: ["a.txt", "b.txt"], renames: [] });
  assert.equal(batcher.readyAt(), undefined);
});

Deno.test("a tree that never settles is still taken after the longest delay", () => {
  let now = 0;
  const batcher = createChangeBatcher(() => 300, () => now);
  for (; now < 10_000; now += 100) batcher.add(["busy.log"]);
  assert.equal(batcher.readyAt(), maxBatchDelayMs(300));
  assert.equal(maxBatchDelayMs(300), 3_000);
  assert.equal(maxBatchDelayMs(10), 2_000);
});

Deno.test("renames are kept in order with their paths; the debounce is read on every call", () => {
  let debounce = 300;
  const batcher = createChangeBatcher(() => debounce, () => 0);
  batcher.add([".x.swp", "x.txt"], [".x.swp", "x.txt"]);
  batcher.add(["a", "b"], ["a", "b"]);
  batcher.add([]);
  debounce = 50;
  assert.equal(batcher.readyAt(), 50);
  assert.deepEqual(batcher.take(), {
    paths: [".x.swp", "x.txt", "a", "b"],
    renames: [[".x.swp", "x.txt"], ["a", "b"]],
  });
});
