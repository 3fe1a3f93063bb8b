import assert from "node:assert/strict";
import { join } from "node:path";
import { StateDb, type TrackedEntry } from "../../../core/state/state_db.ts";
import { sampleTracked } from "../../support/tracked_entry.ts";
import { fileUnderStore } from "../../../core/state/store_filing.ts";
import { checkStoreIdentity } from "../../../core/state/store_identity.ts";
import { findChunkLocation, rememberChunkLocations } from "../../../core/state/chunk_locations.ts";
import { loadChunkPrints, saveChunkPrints } from "../../../core/state/chunk_prints.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import { STORE_ID_KEY } from "../../../core/remote/remote_keys.ts";

const chunk = { id: "c".repeat(64), size: 100, pack: "p".repeat(32), offset: 0, length: 101 };

const baseKey = "ns/default/v/x/device-4.json";

function trackedIn(namespace: string): TrackedEntry {
  return sampleTracked("a.txt", { namespace, baseVclock: { device: 4 }, baseKey });
}

Deno.test("a store emptied at the same address is told apart, and only its state is reset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-store-id-" });
  const store = createFsStore(join(dir, "store"));
  const other = createFsStore(join(dir, "other"));
  const state = await StateDb.open(join(dir, "state.db"));
  const second = await StateDb.open(join(dir, "second.db"));
  try {
    await store.ensureReady();
    assert.equal(await checkStoreIdentity(state, store), "recorded", "first use writes an id");
    const id = new TextDecoder().decode((await store.get(STORE_ID_KEY))!);
    assert.match(id, /^[0-9a-f-]{36}\n$/);
    assert.equal(await checkStoreIdentity(state, store), "same");
    assert.equal(await checkStoreIdentity(second, store), "recorded", "a second device adopts it");
    assert.equal(new TextDecoder().decode((await store.get(STORE_ID_KEY))!), id, "and keeps it");

    const here = fileUnderStore(store.location, "default");
    const elsewhere = fileUnderStore(other.location, "default");
    for (const namespace of [here, elsewhere]) {
      state.putTracked(trackedIn(namespace));
      // Two chunks: a file of one keeps no prints.
      saveChunkPrints(state, namespace, "a.txt", baseKey, [
        { ...chunk, print: "f".repeat(32) },
        { ...chunk, print: "e".repeat(32) },
      ]);
    }
    rememberChunkLocations(state, store.location, [chunk]);
    rememberChunkLocations(state, other.location, [chunk]);
    state.putCachedVersion(fileUnderStore(store.location, baseKey), new Uint8Array([1]));

    await Deno.remove(join(dir, "store"), { recursive: true });
    await store.ensureReady();
    assert.equal(await checkStoreIdentity(state, store), "replaced");
    assert.notEqual(new TextDecoder().decode((await store.get(STORE_ID_KEY))!), id);

    const unlinked = state.getTracked(here, "a.txt")!;
    assert.deepEqual(unlinked.baseVclock, {}, "the old store's clock no longer counts");
    assert.equal(unlinked.baseKey, "");
    assert.equal(unlinked.blake3, "ab".repeat(32), "what is known of the local copy stays");
    assert.equal(findChunkLocation(state, store.location, chunk.id), undefined);
    assert.equal(loadChunkPrints(state, here, "a.txt", baseKey), undefined);
    assert.equal(
      state.getCachedVersion(fileUnderStore(store.location, baseKey)),
      undefined,
    );

    // The other store's state is untouched.
    assert.deepEqual(state.getTracked(elsewhere, "a.txt")!.baseVclock, { device: 4 });
    assert.ok(findChunkLocation(state, other.location, chunk.id));
    assert.ok(loadChunkPrints(state, elsewhere, "a.txt", baseKey));
    assert.equal(await checkStoreIdentity(state, store), "same", "the new id is recorded");
  } finally {
    state.close();
    second.close();
    store.close();
    other.close();
    await Deno.remove(dir, { recursive: true });
  }
});
