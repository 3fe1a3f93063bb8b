/**
 * Fuzz target: the store id (`tcfs-meta/store-id`) a device compares with the one it recorded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { StateDb } from "../../../core/state/state_db.ts";
import { checkStoreIdentity } from "../../../core/state/store_identity.ts";
import { STORE_ID_KEY } from "../../../core/remote/remote_keys.ts";
import { createMemoryStore } from "../../support/memory_store.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { hostileString, mutateBytes, pick, randomBytes } from "../mutations.ts";

const SAMPLE = new TextEncoder().encode("5c1d2a8e-0f0b-4d55-9a52-2b0d3c1e9f00\n");

interface Fixture {
  dir: string;
  state: StateDb;
}

export const target: FuzzTarget<Uint8Array | undefined, Fixture> = {
  open: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tcfs-fuzz-store-id-" });
    return { dir, state: await StateDb.open(join(dir, "state.db")) };
  },
  close: async ({ dir, state }) => {
    state.close();
    await Deno.remove(dir, { recursive: true });
  },
  input: (random) => {
    const roll = random();
    if (roll < 0.1) return undefined;
    if (roll < 0.5) return mutateBytes(random, SAMPLE);
    if (roll < 0.8) return new TextEncoder().encode(hostileString(random));
    return pick(random, [randomBytes(random, 64), new Uint8Array(0), SAMPLE]);
  },
  run: async (body, { state }) => {
    const store = createMemoryStore(`memory://fuzz-${crypto.randomUUID()}`);
    if (body !== undefined) store.objects.set(STORE_ID_KEY, body);
    const first = await checkStoreIdentity(state, store);
    assert.ok(first === "recorded", `a new address is recorded, not ${first}`);
    assert.equal(await checkStoreIdentity(state, store), "same", "the same store stays the same");
  },
};
