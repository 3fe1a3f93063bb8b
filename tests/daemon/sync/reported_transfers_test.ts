import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import { reportedPushes } from "../../../daemon/sync/reported_transfers.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { recordingReporting } from "../../support/recording_reporting.ts";

Deno.test("a push of a path that became a folder announces the folder's files with the file's deletion", async () => {
  const dir = await Deno.makeTempDir();
  const store = createFsStore(join(dir, "store"));
  await store.ensureReady();
  const { reporting, announced } = recordingReporting();
  try {
    using a = await openSyncDevice(dir, "a", store);
    const pushOf = (rel: string) => ({
      localPath: join(a.root, rel),
      remoteRel: rel,
      excludes: [],
      syncRoot: a.root,
    });
    await Deno.writeTextFile(join(a.root, "d"), "a file\n");
    await reportedPushes(reporting, a.ctx, [pushOf("d")], { operation: "push" });
    assert.deepEqual(announced.map((e) => [e.type, e.path]), [["file_synced", "d"]]);

    // The sync loop saw `d` as a file, or gone; by its push, a folder stands there.
    announced.length = 0;
    await Deno.remove(join(a.root, "d"));
    await Deno.mkdir(join(a.root, "d"));
    await Deno.writeTextFile(join(a.root, "d", "f.txt"), "in a folder\n");
    await reportedPushes(reporting, a.ctx, [pushOf("d")], { operation: "push" });
    assert.deepEqual(announced.map((e) => [e.type, e.path]), [
      ["file_deleted", "d"],
      ["file_synced", "d/f.txt"],
    ]);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
