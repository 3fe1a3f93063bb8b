import assert from "node:assert/strict";
import { join } from "node:path";
import { withTwoDevices } from "../../support/sync_device.ts";
import { pull } from "../../../core/sync/pull.ts";

Deno.test("a file pulled to a folder goes into it, as cp puts it, also through a link to a folder", async () => {
  await withTwoDevices("tcfs-pull-into-", async ({ alpha, bravo, tmp }) => {
    await Deno.mkdir(join(alpha.root, "docs"));
    await Deno.writeTextFile(join(alpha.root, "docs", "report.pdf"), "report");
    await alpha.pushAll();

    const downloads = join(tmp, "Downloads");
    await Deno.mkdir(downloads);
    await pull(bravo.ctx, { remoteRel: "docs/report.pdf", localTarget: downloads });
    assert.equal((await Deno.lstat(downloads)).isDirectory, true, "the folder was replaced");
    assert.equal(await Deno.readTextFile(join(downloads, "report.pdf")), "report");

    const elsewhere = join(tmp, "disk2", "inbox");
    await Deno.mkdir(elsewhere, { recursive: true });
    const link = join(tmp, "inbox");
    await Deno.symlink(elsewhere, link);
    const viaLink = await pull(bravo.ctx, { remoteRel: "docs/report.pdf", localTarget: link });
    assert.equal(viaLink.conflicts.length, 0);
    assert.equal((await Deno.lstat(link)).isSymlink, true);
    assert.equal(await Deno.readTextFile(join(elsewhere, "report.pdf")), "report");

    // A new name is the file's own.
    await pull(bravo.ctx, { remoteRel: "docs/report.pdf", localTarget: join(tmp, "copy.pdf") });
    assert.equal(await Deno.readTextFile(join(tmp, "copy.pdf")), "report");
  });
});

Deno.test("at the path's own place in the sync root, an empty folder gives way to the remote file", async () => {
  await withTwoDevices("tcfs-pull-place-", async ({ alpha, bravo }) => {
    await Deno.writeTextFile(join(alpha.root, "notes"), "a file now");
    await alpha.pushAll();
    const place = join(bravo.root, "notes");
    await Deno.mkdir(place);
    await pull(bravo.ctx, { remoteRel: "notes", localTarget: place, syncRoot: bravo.root });
    assert.equal(await Deno.readTextFile(place), "a file now");
  });
});
