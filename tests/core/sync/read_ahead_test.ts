import assert from "node:assert/strict";
import { READ_AHEAD_PATHS, readAhead } from "../../../core/sync/read_ahead.ts";

Deno.test("a read ahead reads a block of paths at once, in order, and each answer once", () => {
  const order = Array.from({ length: READ_AHEAD_PATHS * 2 + 5 }, (_, i) => `f${i}`);
  const reads: string[][] = [];
  const lookup = readAhead(order, (paths) => {
    reads.push(paths);
    return new Map(paths.filter((p) => p !== "f3").map((p) => [p, p.toUpperCase()]));
  });
  // The pass takes a few paths first (a pull's deletions), then begins again with the rest.
  assert.equal(lookup("f1"), "F1");
  assert.equal(lookup("f3"), undefined);
  for (const path of order.filter((p) => p !== "f1" && p !== "f3")) {
    assert.equal(lookup(path), path.toUpperCase());
  }
  assert.deepEqual(reads.map((paths) => [paths[0], paths.length]), [
    ["f1", READ_AHEAD_PATHS],
    ["f0", READ_AHEAD_PATHS],
    [`f${READ_AHEAD_PATHS}`, READ_AHEAD_PATHS],
    [`f${READ_AHEAD_PATHS * 2}`, 5],
  ]);
  // Asked again, or for a path not in the order: read afresh.
  assert.equal(lookup("f2"), "F2");
  assert.equal(lookup("elsewhere"), "ELSEWHERE");
  assert.deepEqual(reads.slice(-2).map((paths) => [paths[0], paths.length]), [
    ["f2", READ_AHEAD_PATHS],
    ["elsewhere", 1],
  ]);
});
