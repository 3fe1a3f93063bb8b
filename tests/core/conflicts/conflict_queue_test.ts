import assert from "node:assert/strict";
import { join } from "node:path";
import { StateDb } from "../../../core/state/state_db.ts";
import {
  clearConflict,
  conflictClearer,
  listConflicts,
  queueConflict,
  type QueuedConflict,
} from "../../../core/conflicts/conflict_queue.ts";

function conflict(path: string, overrides: Partial<QueuedConflict> = {}): QueuedConflict {
  return {
    namespace: "default",
    path,
    local_path: `/sync/${path}`,
    detected_by: "push",
    detected_at: "2026-01-01T00:00:00.000Z",
    remote_authors: ["laptop"],
    ...overrides,
  };
}

Deno.test("conflicts are queued, refreshed, listed and cleared, and persist", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-conflicts-" });
  try {
    const path = join(dir, "state.db");
    const state = await StateDb.open(path);
    // Clearing before anything was queued must work on a database without the table yet.
    clearConflict(state, "default", "a.txt");
    queueConflict(state, conflict("b.txt"));
    queueConflict(state, conflict("a.txt"));
    queueConflict(
      state,
      conflict("a.txt", {
        detected_at: "2026-02-02T00:00:00.000Z",
        remote_authors: ["desk", "laptop"],
      }),
    );
    queueConflict(state, conflict("c.txt", { namespace: "other" }));
    assert.deepEqual(listConflicts(state, "default"), [
      conflict("a.txt", { remote_authors: ["desk", "laptop"] }),
      conflict("b.txt"),
    ]);
    clearConflict(state, "default", "b.txt");
    state.close();

    const reopened = await StateDb.open(path);
    assert.deepEqual(listConflicts(reopened).map((c) => `${c.namespace}/${c.path}`), [
      "default/a.txt",
      "other/c.txt",
    ]);
    reopened.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a clear is seen at once by the process that made it, and by others with its batch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-conflicts-" });
  try {
    const path = join(dir, "state.db");
    const state = await StateDb.open(path);
    const other = await StateDb.open(path);
    queueConflict(state, conflict("a.txt"));
    queueConflict(state, conflict("b.txt"));
    clearConflict(state, "default", "a.txt");
    assert.deepEqual(listConflicts(state).map((c) => c.path), ["b.txt"]);
    clearConflict(state, "default", "b.txt");
    // Queued again after its clear: the clear, written first, does not take it away.
    queueConflict(state, conflict("b.txt", { detected_by: "pull" }));
    state.flush();
    assert.deepEqual(listConflicts(other), [conflict("b.txt", { detected_by: "pull" })]);
    other.close();
    state.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run's clearer writes nothing while the namespace had no conflict as it began, and clears once this process queued one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-conflicts-" });
  const state = await StateDb.open(join(dir, "state.db"));
  const other = await StateDb.open(join(dir, "state.db"));
  try {
    queueConflict(state, conflict("x.txt", { namespace: "other" }));
    const clear = conflictClearer(state, "default");
    // Queued through another handle, as no run under the writer lock meets: left alone, which
    // shows that the clearer wrote nothing.
    queueConflict(other, conflict("a.txt"));
    clear("a.txt");
    state.flush();
    assert.deepEqual(listConflicts(state, "default").map((c) => c.path), ["a.txt"]);
    // Queued by this process: the clearer clears again.
    queueConflict(state, conflict("b.txt"));
    clear("a.txt");
    clear("b.txt");
    assert.deepEqual(listConflicts(state, "default"), []);
    // A run that begins with conflicts queued clears them.
    queueConflict(other, conflict("c.txt"));
    conflictClearer(state, "default")("c.txt");
    assert.deepEqual(listConflicts(state), [conflict("x.txt", { namespace: "other" })]);
  } finally {
    state.close();
    other.close();
    await Deno.remove(dir, { recursive: true });
  }
});
