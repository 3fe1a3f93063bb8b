import assert from "node:assert/strict";
import { join } from "node:path";
import { withTwoDevices } from "../../support/sync_device.ts";
import { statEntry } from "../../../core/sync/local_scanner.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import { isRacyStat } from "../../../core/sync/racy_stat.ts";

/**
 * Rewrites `path` in place with `text` (the same size) and gives it back the mtime it had: what
 * a rewrite within one tick of the file system's clock looks like to a stat.
 */
async function rewriteWithinTick(path: string, text: string): Promise<void> {
  const before = await Deno.lstat(path);
  const file = await Deno.open(path, { write: true });
  try {
    await file.write(new TextEncoder().encode(text));
  } finally {
    file.close();
  }
  await Deno.utime(path, before.atime!, before.mtime!);
  const after = await Deno.lstat(path);
  assert.equal(after.size, before.size);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtime!.getTime(), before.mtime!.getTime());
}

/** Writes `text` to `path` with an mtime `offsetMs` from now. */
async function writeAt(path: string, text: string, offsetMs: number): Promise<void> {
  await Deno.writeTextFile(path, text);
  const when = new Date(Date.now() + offsetMs);
  await Deno.utime(path, when, when);
}

Deno.test("a same-size rewrite in the tick of the last push's stat is pushed", async () => {
  await withTwoDevices("tcfs-racy-push-", async ({ alpha, bravo }) => {
    const file = join(alpha.root, "notes.txt");
    // A second ahead: still this tick when the push stats it, however slow the machine.
    await writeAt(file, "draft one\n", 1000);
    assert.equal((await alpha.pushAll()).files, 1);
    const row = alpha.ctx.state.getTracked(trackedNamespace(alpha.ctx), "notes.txt")!;
    assert.equal(row.racy, true);

    await rewriteWithinTick(file, "draft two\n");
    const second = await alpha.pushAll();
    assert.equal(second.files, 1, "the rewrite went unseen");
    await bravo.pullAll();
    assert.equal(await Deno.readTextFile(join(bravo.root, "notes.txt")), "draft two\n");

    // Unchanged since: checked by digest, no new version.
    const third = await alpha.pushAll();
    assert.equal(third.files, 0);
    assert.equal(third.unchanged, 1);
  });
});

Deno.test("a pull does not replace a same-size edit made in the tick of the file's restore", async () => {
  await withTwoDevices("tcfs-racy-pull-", async ({ alpha, bravo }) => {
    // The version's mtime is what bravo's restore gives the file.
    await writeAt(join(alpha.root, "notes.txt"), "version 1\n", 1000);
    await alpha.pushAll();
    await bravo.pullAll();
    const mine = join(bravo.root, "notes.txt");
    await rewriteWithinTick(mine, "edited  1\n");

    await writeAt(join(alpha.root, "notes.txt"), "version 2, longer\n", 0);
    await alpha.pushAll();
    const pulled = await bravo.pullAll();
    assert.equal(await Deno.readTextFile(mine), "edited  1\n", "bravo's edit was overwritten");
    assert.deepEqual(pulled.conflicts, ["tcfs/default/notes.txt"]);
  });
});

Deno.test("a stat is racy while its mtime is within a tick's margin, or a whole second's", () => {
  const now = Date.parse("2026-12-04T12:00:00.000Z");
  assert.equal(isRacyStat(now - 20, now), true);
  assert.equal(isRacyStat(now - 1_501, now), false);
  // An mtime on a whole second may be all a file system keeps (FAT keeps two).
  assert.equal(isRacyStat(now - 1_000, now), true);
  assert.equal(isRacyStat(now - 3_000, now), false);
  // Ahead of the clock: any later rewrite can match it.
  assert.equal(isRacyStat(now + 3_600_000, now), true);
});

Deno.test("a scan marks a file written just now racy, and one written a minute ago not", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-racy-old-" });
  try {
    const recent = join(tmp, "recent.txt");
    const old = join(tmp, "old.txt");
    await writeAt(recent, "x", 1000);
    await writeAt(old, "x", -60_123);
    assert.equal((await statEntry(recent, "recent.txt"))!.racy, true);
    assert.equal((await statEntry(old, "old.txt"))!.racy, false);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a racy row found unchanged once its mtime has aged is trusted by stat again", async () => {
  await withTwoDevices("tcfs-racy-settle-", async ({ alpha }) => {
    const ns = trackedNamespace(alpha.ctx);
    // Pushed while its mtime was recent, then the clock moved on: recorded racy, and the
    // same stat taken now is not.
    await writeAt(join(alpha.root, "a.txt"), "a", 1000);
    await alpha.pushAll();
    const row = alpha.ctx.state.getTracked(ns, "a.txt")!;
    assert.equal(row.racy, true);
    const aged = new Date(Date.now() - 60_000);
    await Deno.utime(join(alpha.root, "a.txt"), aged, aged);
    alpha.ctx.state.putTracked({ ...row, mtimeMs: aged.getTime() });

    const again = await alpha.pushAll();
    assert.equal(again.files, 0);
    assert.equal(alpha.ctx.state.getTracked(ns, "a.txt")!.racy, false);
  });
});
