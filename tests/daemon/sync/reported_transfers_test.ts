import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import type { SyncContext } from "../../../core/sync/sync_context.ts";
import { createDaemonMetrics } from "../../../daemon/metrics/daemon_metrics.ts";
import { createConflictLedger } from "../../../daemon/sync/conflict_ledger.ts";
import { type EventFields, reportedPushes } from "../../../daemon/sync/reported_transfers.ts";

Deno.test("a push of a path that became a folder announces the folder's files with the file's deletion", async () => {
  const dir = await Deno.makeTempDir();
  const store = createFsStore(join(dir, "store"));
  await store.ensureReady();
  const state = await StateDb.open(join(dir, "state.db"));
  const ctx: SyncContext = {
    store,
    state,
    device: { id: crypto.randomUUID(), name: "a" },
    bucket: "tcfs",
    namespace: "default",
  };
  const announced: EventFields[] = [];
  const reporting = {
    metrics: createDaemonMetrics({
      natsConnected: () => false,
      natsStream: () => ({ reconnects: 0, replicas: 0, leaderChanges: 0 }),
      outboxDepth: () => 0,
      storageReachable: () => true,
    }),
    announce: (fields: EventFields) => announced.push(fields),
    activity: () => {},
    conflicts: createConflictLedger(),
  };
  const root = join(dir, "Sync");
  const pushOf = (rel: string) => ({
    localPath: join(root, rel),
    remoteRel: rel,
    excludes: [],
    syncRoot: root,
  });
  try {
    await Deno.mkdir(root);
    await Deno.writeTextFile(join(root, "d"), "a file\n");
    await reportedPushes(reporting, ctx, [pushOf("d")], { operation: "push" });
    assert.deepEqual(announced.map((e) => [e.type, e.path]), [["file_synced", "d"]]);

    // The sync loop saw `d` as a file, or gone; by its push, a folder stands there.
    announced.length = 0;
    await Deno.remove(join(root, "d"));
    await Deno.mkdir(join(root, "d"));
    await Deno.writeTextFile(join(root, "d", "f.txt"), "in a folder\n");
    await reportedPushes(reporting, ctx, [pushOf("d")], { operation: "push" });
    assert.deepEqual(announced.map((e) => [e.type, e.path]), [
      ["file_deleted", "d"],
      ["file_synced", "d/f.txt"],
    ]);
  } finally {
    state.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
