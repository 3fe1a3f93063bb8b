import assert from "node:assert/strict";
import { join } from "node:path";
import { StateDb } from "../../core/state/state_db.ts";
import { checkStoreIdentity } from "../../core/state/store_identity.ts";
import { STORE_ID_KEY } from "../../core/remote/remote_keys.ts";
import { createMemoryStore } from "../support/memory_store.ts";
import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("store id", new URL("./targets/store_identity_target.ts", import.meta.url));

// Found by seed 2947905019, case 0: an id with NUL bytes was recorded cut short, so every later
// check found the store "replaced" and reset the device's state again; a blank id threw a
// plain Error after the device's own id could not be written over it.
Deno.test("a store id with NUL, control characters, only spaces or 64 KiB is refused as damaged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-fuzz-store-id-" });
  const state = await StateDb.open(join(dir, "state.db"));
  try {
    const hostile = [
      "5c1d2a\0\0\0\0f0b-4d55",
      "a\u0001b",
      "  \n",
      "é".repeat(40),
    ];
    for (const [n, id] of hostile.entries()) {
      const store = createMemoryStore(`memory://store-${n}`);
      store.objects.set(STORE_ID_KEY, new TextEncoder().encode(id));
      await assert.rejects(checkStoreIdentity(state, store), { kind: "store_id_invalid" }, id);
      assert.equal(state.getMeta(`store-id:${store.location}`), undefined, "nothing recorded");
    }
    // One too big to be an id is not even read.
    const store = createMemoryStore("memory://store-huge");
    store.objects.set(STORE_ID_KEY, new TextEncoder().encode("x".repeat(65_536)));
    await assert.rejects(checkStoreIdentity(state, store), { kind: "oversized_object" });
    assert.equal(state.getMeta(`store-id:${store.location}`), undefined, "nothing recorded");
  } finally {
    state.close();
    await Deno.remove(dir, { recursive: true });
  }
});
