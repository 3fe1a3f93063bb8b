import assert from "node:assert/strict";
import { join } from "node:path";
import { StateDb } from "../../../core/state/state_db.ts";
import { foldIn } from "../../../core/journal/folded_versions.ts";
import { type SyncContext, trackedNamespace } from "../../../core/sync/sync_context.ts";
import { createMemoryStore } from "../../support/memory_store.ts";
import { createAwaitedSegments } from "../../../daemon/sync/awaited_segments.ts";

const ALPHA = "5f0c2a3e-0000-4000-8000-00000000000a";
const BRAVO = "5f0c2a3e-0000-4000-8000-00000000000b";

/** Runs `body` with a sync context on a fresh state database of its own. */
async function withContext(body: (ctx: SyncContext, state: StateDb) => Promise<void> | void) {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-awaited-" });
  const state = await StateDb.open(join(dir, "state.db"));
  const ctx = {
    store: createMemoryStore(),
    state,
    namespace: "default",
    device: { id: BRAVO, name: "bravo" },
  } as unknown as SyncContext;
  try {
    await body(ctx, state);
  } finally {
    state.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a segment an event named is awaited until a catch-up folds it, then forgotten", () =>
  withContext((ctx, state) => {
    const warnings: string[] = [];
    const awaited = createAwaitedSegments((m) => warnings.push(m));
    assert.equal(awaited.behind(ctx), false, "nothing awaited");
    awaited.expect({ device: ALPHA, seq: 3 });
    foldIn(state, trackedNamespace(ctx), [], new Map([[ALPHA, 2]]));
    assert.equal(awaited.behind(ctx), true, "folded up to 2 of 3");
    foldIn(state, trackedNamespace(ctx), [], new Map([[ALPHA, 3]]));
    assert.equal(awaited.behind(ctx), false, "segment 3 folded");
    assert.deepEqual(warnings, []);
  }));

Deno.test("a segment never listed is given up on after a few looks, with a warning", () =>
  withContext((ctx) => {
    const warnings: string[] = [];
    const awaited = createAwaitedSegments((m) => warnings.push(m));
    // A forged number far ahead of anything written.
    awaited.expect({ device: ALPHA, seq: 1_000_000 });
    const looks: boolean[] = [];
    for (let i = 0; i < 5; i++) looks.push(awaited.behind(ctx));
    assert.deepEqual(looks, [true, true, true, false, false]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /segment 1000000 of device .*the next poll will look again/);
  }));
