import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { pathHistory } from "../../../core/history/path_history.ts";
import { restoreHistory } from "../../../core/history/history_restore.ts";
import { writeCheckpointIfDue } from "../../../core/journal/journal_checkpoint.ts";
import { foldedHistory } from "../../../core/journal/folded_versions.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";

/** Lets `written_at` (milliseconds) tell apart versions written by quick successive pushes. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

Deno.test("every version of a path is kept in history, newest first, and a deleted file comes back on every device", async () => {
  const tmp = await makeScopedTempDir("tcfs-history-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  const file = join(a.root, "notes.txt");
  for (const text of ["one\n", "two\n", "three\n"]) {
    await Deno.writeTextFile(file, text);
    await a.pushAll();
    await tick();
  }
  await b.pullAll();
  await Deno.remove(join(b.root, "notes.txt"));
  await b.pushAll();
  await a.pullAll();
  await assert.rejects(Deno.stat(file));

  const { entries } = await pathHistory(a.ctx, "notes.txt");
  assert.deepEqual(entries.map((e) => [e.version.kind, e.version.size, e.head]), [
    ["deleted", 0, true],
    ["file", 6, false],
    ["file", 4, false],
    ["file", 4, false],
  ]);
  assert.equal(entries[0].version.author_name, "beta");
  assert.ok(entries.every((e) => !e.conflict));

  // No version, no time: the content from before the deletion, as a new version on top.
  const [restored] = await restoreHistory(a.ctx, { rel: "notes.txt" });
  assert.equal(restored.action, "restore");
  assert.equal(restored.from.id, entries[1].id);
  await b.pullAll();
  assert.equal(await Deno.readTextFile(join(b.root, "notes.txt")), "three\n");
  await a.pullAll();
  assert.equal(await Deno.readTextFile(file), "three\n");

  // A time: the version current then. To a local file: nothing is written to the store.
  const at = new Date(entries[3].version.written_at);
  const copy = join(tmp.path, "then.txt");
  const before = (await pathHistory(b.ctx, "notes.txt")).entries.length;
  await restoreHistory(b.ctx, { rel: "notes.txt", at, to: copy });
  assert.equal(await Deno.readTextFile(copy), "one\n");
  assert.equal((await pathHistory(b.ctx, "notes.txt")).entries.length, before);

  // A version by id, on top: the restore is itself one more version, undoable in turn.
  await restoreHistory(b.ctx, { rel: "notes.txt", version: entries[2].id });
  await b.pullAll();
  assert.equal(await Deno.readTextFile(join(b.root, "notes.txt")), "two\n");
  assert.equal((await pathHistory(b.ctx, "notes.txt")).entries.length, before + 1);
  await assert.rejects(
    restoreHistory(b.ctx, { rel: "notes.txt", version: "nope-1" }),
    /no version/,
  );
});

Deno.test("a folder comes back as it was at a time, and a new device reads history from a checkpoint", async () => {
  const tmp = await makeScopedTempDir("tcfs-history-folder-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  await Deno.mkdir(join(a.root, "docs"));
  await Deno.writeTextFile(join(a.root, "docs", "x.txt"), "x1\n");
  await Deno.writeTextFile(join(a.root, "docs", "y.txt"), "y1\n");
  await a.pushAll();
  await tick();
  const then = new Date();
  await tick();
  await Deno.writeTextFile(join(a.root, "docs", "x.txt"), "x2\n");
  await Deno.remove(join(a.root, "docs", "y.txt"));
  await Deno.writeTextFile(join(a.root, "docs", "z.txt"), "z2\n");
  await a.pushAll();

  const out = join(tmp.path, "docs-then");
  const items = await restoreHistory(a.ctx, { rel: "docs", at: then, to: out });
  assert.deepEqual(items.map((i) => i.path).sort(), ["docs/x.txt", "docs/y.txt"]);
  assert.equal(await Deno.readTextFile(join(out, "x.txt")), "x1\n");
  assert.equal(await Deno.readTextFile(join(out, "y.txt")), "y1\n");
  await assert.rejects(Deno.stat(join(out, "z.txt")));

  Deno.env.set("TCFS_CHECKPOINT_EVERY", "1");
  try {
    assert.ok(await writeCheckpointIfDue(a.ctx));
  } finally {
    Deno.env.delete("TCFS_CHECKPOINT_EVERY");
  }
  using c = await openSyncDevice(tmp.path, "gamma", store);
  const { entries } = await pathHistory(c.ctx, "docs/x.txt");
  assert.equal(entries.length, 2);
  await restoreHistory(c.ctx, { rel: "docs", at: then });
  await c.pullAll();
  assert.equal(await Deno.readTextFile(join(c.root, "docs", "x.txt")), "x1\n");
  assert.equal(await Deno.readTextFile(join(c.root, "docs", "y.txt")), "y1\n");
  assert.equal(await Deno.readTextFile(join(c.root, "docs", "z.txt")), "z2\n");
});

Deno.test("a fold made before history (tcfs 0.8.0) is made again, and then holds the history", async () => {
  const tmp = await makeScopedTempDir("tcfs-history-upgrade-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  // Three sizes: two writes of one size within one mtime tick (a few ms) look unchanged to a
  // push that stat'ed the first (a known limit, noted on issue 13), and this test is about the fold.
  for (const text of ["one\n", "two!\n", "three\n"]) {
    await Deno.writeTextFile(join(a.root, "n.txt"), text);
    await a.pushAll();
  }
  // What 0.8.0 left: heads only, and no mark of the fold's format.
  const ns = trackedNamespace(a.ctx);
  a.ctx.state.statement("DELETE FROM journal_history WHERE ns = ?").run(ns);
  a.ctx.state.statement("DELETE FROM meta WHERE key = ?").run(`journal_fold_format:${ns}`);
  assert.equal(foldedHistory(a.ctx.state, ns, "n.txt").length, 0);
  const { entries } = await pathHistory(a.ctx, "n.txt");
  assert.equal(entries.length, 3);
  await a.pushAll();
  assert.equal((await pathHistory(a.ctx, "n.txt")).entries.length, 3, "made again only once");
});
