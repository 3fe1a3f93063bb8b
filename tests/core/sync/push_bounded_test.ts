import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { assertSameTree } from "../../support/tree_compare.ts";
import { SEGMENT_MAX_VERSIONS } from "../../../core/journal/journal_codec.ts";
import { push } from "../../../core/sync/push.ts";

Deno.test("a chunk shared by files across segments is uploaded once: once a version names it, later files find it among the chunk locations", async () => {
  const tmp = await makeScopedTempDir("tcfs-push-bounded-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "a", store);
  using b = await openSyncDevice(tmp.path, "b", store);
  try {
    // Distinct 4 KiB files fill a pack about every thousand, so packs land and segments are
    // written while the copies of one file are still being staged.
    const folders = 3 * SEGMENT_MAX_VERSIONS / 2;
    const same = randomBytes(3000, 1);
    for (let i = 0; i < folders; i++) {
      const folder = join(a.root, `d${String(i).padStart(4, "0")}`);
      await Deno.mkdir(folder);
      await Deno.writeFile(join(folder, "own.bin"), randomBytes(4096, 100 + i));
      await Deno.writeFile(join(folder, "same.bin"), same);
    }
    const pushed = await a.pushAll();
    assert.equal(pushed.files, 2 * folders);
    assert.equal(pushed.chunks_uploaded, folders + 1, "each own.bin, and same.bin once");
    assert.equal((await b.pullAll()).files, 2 * folders);
    await assertSameTree(a.root, b.root);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a push holding fewer changes than it has finds the rest by a second walk: each change goes up once, deletions and unchanged files as before", async () => {
  const tmp = await makeScopedTempDir("tcfs-push-second-walk-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "a", store);
  using b = await openSyncDevice(tmp.path, "b", store);
  // One file at a time, so that the second walk starts once the held ten are staged.
  a.ctx.fileConcurrency = 1;
  const docs = join(a.root, "docs");
  const path = (i: number) => join(docs, `d${i % 4}`, `f${String(i).padStart(2, "0")}.txt`);
  try {
    for (let i = 0; i < 40; i++) {
      await Deno.mkdir(join(docs, `d${i % 4}`), { recursive: true });
      await Deno.writeTextFile(path(i), `first ${i}`);
    }
    const request = { localPath: docs, remoteRel: "docs", excludes: [], heldChanges: 10 };
    assert.equal((await push(a.ctx, request)).files, 40);
    // Every third file edited, every fifth deleted (one of them comes back during the push),
    // and new ones in a folder of their own.
    for (let i = 0; i < 40; i += 3) await Deno.writeTextFile(path(i), `second ${i}, longer`);
    for (let i = 0; i < 40; i += 5) await Deno.remove(path(i));
    for (let i = 0; i < 20; i++) {
      await Deno.mkdir(join(docs, "new"), { recursive: true });
      await Deno.writeTextFile(join(docs, "new", `n${i}.txt`), `new ${i}`);
    }
    const edited = [...Array(40).keys()].filter((i) => i % 3 === 0 && i % 5 !== 0).length;
    const deleted = [...Array(40).keys()].filter((i) => i % 5 === 0).length;
    let totals: number[] = [];
    const back = path(35);
    const summary = await push(a.ctx, {
      ...request,
      onProgress: (progress) => {
        if (totals.length > 0) return;
        totals = [progress.filesTotal, progress.bytesTotal];
        // Past the held ten: the second walk finds it, but the first took it for deleted.
        Deno.writeTextFileSync(back, "back");
      },
    });
    assert.equal(totals[0], edited + 20 + deleted);
    assert.equal(summary.files, edited + 20);
    assert.equal(summary.deleted, deleted);
    assert.equal(summary.unchanged, 40 - edited - deleted);
    assert.deepEqual(summary.failures, []);
    await Deno.remove(back);
    assert.equal((await b.pullAll()).files, 40 - deleted + 20);
    await assertSameTree(a.root, b.root);
  } finally {
    await tmp.remove();
  }
});
