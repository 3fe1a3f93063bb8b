import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFileStoreDevices } from "../support/device_home.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { PathStatus } from "../../core/sync/sync_status.ts";

Deno.test("a folder named through a symlink is pushed as the folder it points to, never as a link over the fleet's files", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-linked-folder-" });
  try {
    const [a, b] = await makeFileStoreDevices(tmp, "devA", "devB");
    const rootA = join(a.home, "docs");
    await Deno.mkdir(rootA);
    await Deno.writeTextFile(join(rootA, "one.txt"), "one\n");
    await a.tcfsJson<PushSummary>(["push", rootA]);

    // On B, ~/docs is a link to a folder on another disk, as relocated folders often are.
    const disk = join(b.home, "disk", "docs");
    await Deno.mkdir(disk, { recursive: true });
    const linkB = join(b.home, "docs");
    await Deno.symlink(disk, linkB);
    await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", linkB]);
    assert.equal(await Deno.readTextFile(join(disk, "one.txt")), "one\n");
    await Deno.writeTextFile(join(disk, "two.txt"), "two\n");
    // sync-status said the same: the link new, the folder's files deleted.
    const status = await b.tcfsJson<PathStatus[]>(["sync-status", linkB]);
    assert.deepEqual(status.map((row) => [row.path, row.state]), [
      ["docs/one.txt", "synced"],
      ["docs/two.txt", "new"],
    ]);
    // It was pushed as one symlink at "docs", deleting docs/one.txt for everyone.
    const pushed = await b.tcfsJson<PushSummary>(["push", linkB]);
    assert.equal(pushed.deleted, 0);
    assert.equal(pushed.files, 1);

    await a.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootA]);
    assert.ok((await Deno.lstat(rootA)).isDirectory);
    assert.equal(await Deno.readTextFile(join(rootA, "one.txt")), "one\n");
    assert.equal(await Deno.readTextFile(join(rootA, "two.txt")), "two\n");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
