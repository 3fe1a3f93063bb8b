import assert from "node:assert/strict";
import { join } from "node:path";
import { withTwoDevices } from "../../support/sync_device.ts";
import { syncStatus } from "../../../core/sync/sync_status.ts";

Deno.test("a synced link made again with the same target is synced, as a touched file is", async () => {
  await withTwoDevices("tcfs-status-link-", async ({ alpha }) => {
    const link = join(alpha.root, "latest");
    await Deno.symlink("releases/1.0", link);
    await alpha.pushAll();
    const status = () =>
      syncStatus(alpha.ctx, { localPath: alpha.root, remoteRel: "", excludes: [] });
    assert.deepEqual((await status()).map((row) => row.state), ["synced"]);

    // `ln -sfn`: a new link, so a new inode and mtime, pointing where the old one did.
    await Deno.remove(link);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await Deno.symlink("releases/1.0", link);
    assert.deepEqual((await status()).map((row) => row.state), ["synced"]);

    await Deno.remove(link);
    await Deno.symlink("releases/2.0", link);
    assert.deepEqual((await status()).map((row) => row.state), ["modified"]);
  });
});
