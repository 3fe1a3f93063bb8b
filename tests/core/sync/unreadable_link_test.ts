import assert from "node:assert/strict";
import { join } from "node:path";
import { withTwoDevices } from "../../support/sync_device.ts";
import { push } from "../../../core/sync/push.ts";
import { syncStatus } from "../../../core/sync/sync_status.ts";

/** Makes `path` a symlink to a target whose bytes are not UTF-8 (Latin-1 "café"). */
async function latin1Link(path: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
  const made = await new Deno.Command("bash", {
    args: ["-c", `ln -s $'caf\\xe9' "$1"`, "bash", path],
  }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
}

Deno.test("a link whose target is not UTF-8 fails alone at push, is no deletion once synced, and shows as unreadable", async () => {
  await withTwoDevices("tcfs-link-target-", async ({ alpha, bravo }) => {
    const link = join(alpha.root, "menu");
    await Deno.symlink("cafe", link);
    await Deno.writeTextFile(join(alpha.root, "notes.txt"), "notes");
    await alpha.pushAll();
    await bravo.pullAll();
    assert.equal(await Deno.readLink(join(bravo.root, "menu")), "cafe");

    // Pointed at a name Deno can only read with U+FFFD in it.
    await latin1Link(link);
    const pushed = await alpha.pushAll();
    assert.deepEqual(pushed.failures.map((f) => f.path), ["menu"]);
    assert.match(pushed.failures[0].error, /not valid UTF-8/);
    assert.equal(pushed.deleted, 0);
    assert.equal(pushed.files, 0);
    await bravo.pullAll();
    assert.equal(await Deno.readLink(join(bravo.root, "menu")), "cafe");

    // sync-status says so (it said "deleted"), and lists a new one too.
    await latin1Link(join(alpha.root, "new-menu"));
    const status = await syncStatus(alpha.ctx, {
      localPath: alpha.root,
      remoteRel: "",
      excludes: [],
    });
    assert.deepEqual(
      status.map(({ path, local, state }) => ({ path, local, state })),
      [
        { path: "menu", local: link, state: "unreadable" },
        { path: "new-menu", local: join(alpha.root, "new-menu"), state: "unreadable" },
        { path: "notes.txt", local: join(alpha.root, "notes.txt"), state: "synced" },
      ],
    );

    // The same through a push of the link alone, as the daemon's watcher makes.
    const alone = await push(alpha.ctx, { localPath: link, remoteRel: "menu", excludes: [] });
    assert.deepEqual(alone.failures.map((f) => f.path), ["menu"]);
    assert.equal(alone.deleted, 0);
  });
});
