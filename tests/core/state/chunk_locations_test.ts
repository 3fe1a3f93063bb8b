import assert from "node:assert/strict";
import { join } from "node:path";
import { StateDb } from "../../../core/state/state_db.ts";
import {
  findChunkLocation,
  findStoredChunkLocation,
  rememberChunkLocations,
  rememberObjectStored,
  restartObjectChecks,
} from "../../../core/state/chunk_locations.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { packKey } from "../../../core/remote/remote_keys.ts";

function chunkIn(pack: string, n: number) {
  return { id: n.toString(16).padStart(64, "0"), size: 10, pack, offset: n * 11, length: 11 };
}

/** `store`, counting the existence checks it answers. */
function countingHas(store: ObjectStore): ObjectStore & { asked: string[] } {
  const asked: string[] = [];
  return Object.assign(Object.create(store), {
    asked,
    has: (key: string) => {
      asked.push(key);
      return store.has(key);
    },
  });
}

Deno.test("a remembered chunk place is trusted once its pack is seen, and forgotten with a lost pack", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-chunk-locations-" });
  const fs = createFsStore(join(dir, "store"));
  const state = await StateDb.open(join(dir, "state.db"));
  try {
    await fs.ensureReady();
    const kept = "a".repeat(32);
    const lost = "b".repeat(32);
    await fs.put(packKey(kept), new Uint8Array(100));
    // Remembered by an earlier process (a pull, or a push before the store lost `lost`).
    const rows = [chunkIn(kept, 0), chunkIn(kept, 1), chunkIn(lost, 2), chunkIn(lost, 3)];
    rememberChunkLocations(state, "elsewhere", rows);
    state.flush(); // as that process did on closing
    const earlier = fs.location;
    state.statement("UPDATE chunk_locations SET store = ?").run(earlier);

    const store = countingHas(fs);
    const found = await Promise.all(
      rows.map((row) => findStoredChunkLocation(state, store, row.id)),
    );
    assert.deepEqual(found, [rows[0], rows[1], undefined, undefined]);
    assert.deepEqual(store.asked.sort(), [packKey(kept), packKey(lost)], "one check per pack");
    assert.equal(
      findChunkLocation(state, earlier, rows[2].id),
      undefined,
      "the lost pack's rows are gone",
    );
    assert.deepEqual(findChunkLocation(state, earlier, rows[0].id), rows[0]);

    await findStoredChunkLocation(state, store, rows[0].id);
    assert.equal(store.asked.length, 2, "a pack seen present is not asked about again");
    // A pack this process uploaded needs no check at all.
    const fresh = chunkIn("c".repeat(32), 4);
    rememberObjectStored(earlier, packKey(fresh.pack));
    rememberChunkLocations(state, earlier, [fresh]);
    assert.deepEqual(await findStoredChunkLocation(state, store, fresh.id), fresh);
    assert.equal(store.asked.length, 2);

    // Each reading of gc's condemned records starts afresh: a condemned pack is gone, any other
    // is checked again (gc may have deleted it, record and all, since it was seen).
    restartObjectChecks(earlier, new Set([packKey(fresh.pack)]));
    assert.equal(await findStoredChunkLocation(state, store, fresh.id), undefined);
    assert.deepEqual(await findStoredChunkLocation(state, store, rows[0].id), rows[0]);
    assert.deepEqual(store.asked.slice(2), [packKey(kept)]);
  } finally {
    state.close();
    fs.close();
    await Deno.remove(dir, { recursive: true });
  }
});
