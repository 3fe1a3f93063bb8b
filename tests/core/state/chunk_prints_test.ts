import assert from "node:assert/strict";
import { join } from "node:path";
import { StateDb } from "../../../core/state/state_db.ts";
import { loadChunkPrints, saveChunkPrints } from "../../../core/state/chunk_prints.ts";
import type { PrintedChunk } from "../../../core/sync/edit_chunker.ts";

function printed(i: number): PrintedChunk {
  return { id: `${i}`.repeat(64).slice(0, 64), size: 100, print: `${i}`.repeat(32).slice(0, 32) };
}

Deno.test("a file of one chunk keeps no prints; one of more keeps them for its version alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-prints-" });
  const state = await StateDb.open(join(dir, "state.db"));
  try {
    // Prints are held writes: each load below follows a flush of them.
    saveChunkPrints(state, "default", "small.txt", "v1", [printed(1)]);
    state.flush();
    assert.equal(loadChunkPrints(state, "default", "small.txt", "v1"), undefined);
    saveChunkPrints(state, "default", "large.bin", "v1", [printed(1), printed(2)]);
    state.flush();
    assert.deepEqual(loadChunkPrints(state, "default", "large.bin", "v1"), [
      printed(1),
      printed(2),
    ]);
    assert.equal(loadChunkPrints(state, "default", "large.bin", "v2"), undefined);
    // Shrunk to one chunk: the row of the older version stays, but is not this version's.
    saveChunkPrints(state, "default", "large.bin", "v2", [printed(3)]);
    state.flush();
    assert.equal(loadChunkPrints(state, "default", "large.bin", "v2"), undefined);
  } finally {
    state.close();
    await Deno.remove(dir, { recursive: true });
  }
});
