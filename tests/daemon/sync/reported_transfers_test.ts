import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import { reportedPulls, reportedPushes } from "../../../daemon/sync/reported_transfers.ts";
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

Deno.test("a path a pull cannot write is logged once while it keeps failing, and forgotten once it goes through", async () => {
  const dir = await Deno.makeTempDir();
  const store = createFsStore(join(dir, "store"));
  await store.ensureReady();
  const { reporting, logged } = recordingReporting();
  try {
    using a = await openSyncDevice(dir, "a", store);
    using b = await openSyncDevice(dir, "b", store);
    await Deno.mkdir(join(a.root, "x"));
    await Deno.writeTextFile(join(a.root, "x", "a.txt"), "a\n");
    await Deno.writeTextFile(join(a.root, "y.txt"), "y\n");
    await reportedPushes(reporting, a.ctx, [
      { localPath: a.root, remoteRel: "", excludes: [], syncRoot: a.root },
    ], { operation: "push" });

    // A file of b's own (never synced) stands where the remote has a folder.
    await Deno.writeTextFile(join(b.root, "x"), "b's own file\n");
    const pullAll = [{ remoteRel: "", localTarget: b.root, syncRoot: b.root }];
    for (let i = 0; i < 3; i++) {
      const summary = await reportedPulls(reporting, b.ctx, pullAll, { operation: "poll" });
      assert.deepEqual(summary.failures.map((f) => f.path), ["x/a.txt"]);
    }
    assert.equal(logged.length, 1, logged.join("\n"));
    assert.match(logged[0], /^warning: could not pull x\/a\.txt: /);
    assert.equal(await Deno.readTextFile(join(b.root, "y.txt")), "y\n");
    // A run stopped before it went through tells nothing of the paths it did not reach.
    await reportedPulls(reporting, b.ctx, pullAll, { operation: "poll", shouldStop: () => true });
    await reportedPulls(reporting, b.ctx, pullAll, { operation: "poll" });
    assert.equal(logged.length, 1, logged.join("\n"));

    await Deno.remove(join(b.root, "x"));
    await reportedPulls(reporting, b.ctx, pullAll, { operation: "poll" });
    assert.equal(await Deno.readTextFile(join(b.root, "x", "a.txt")), "a\n");
    assert.equal(logged.length, 1);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
