import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { createFsStore } from "../../core/store/fs_store.ts";
import { packKey } from "../../core/remote/remote_keys.ts";
import { storeHeads } from "../support/journal_store.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("a deletion keeps the last content of the path: its version and packs stay, and pulls still delete", async () => {
  const tmp = await makeScopedTempDir("tcfs-deleted-kept-");
  try {
    const storeDir = join(tmp.path, "store");
    const env = { TCFS_S3_ENDPOINT: `file://${storeDir}` };
    const a = await makeDeviceHome(tmp.path, "devA", env);
    const b = await makeDeviceHome(tmp.path, "devB", env);
    const src = join(a.home, "proj");
    const dest = join(b.home, "proj");
    await Deno.mkdir(src);
    await Deno.writeTextFile(join(src, "keep.txt"), "keep");
    await Deno.writeTextFile(join(src, "gone.bin"), "first content");
    await a.tcfsJson<PushSummary>(["push", src]);
    // The last content before the deletion is chunked, so it lives in packs.
    await writeRandomFile(join(src, "gone.bin"), 200_000, 77);
    await a.tcfsJson<PushSummary>(["push", src]);
    assert.equal((await b.tcfsJson<PullSummary>(["pull", "tcfs/default/proj", dest])).files, 2);

    await Deno.remove(join(src, "gone.bin"));
    assert.equal((await a.tcfsJson<PushSummary>(["push", src])).deleted, 1);
    // Pushing again with nothing changed leaves it in place too.
    await a.tcfsJson<PushSummary>(["push", src]);

    const store = createFsStore(storeDir);
    const gone = (await storeHeads(store)).path("proj/gone.bin");
    assert.deepEqual(gone.heads.map((head) => head.version.kind), ["deleted"]);
    assert.deepEqual(gone.kept.map((kept) => kept.version.kind), ["file"]);
    const content = gone.kept[0].version;
    assert.equal(content.size, 200_000, "the newest content is the one kept");
    for (const chunk of content.chunks) assert.ok(await store.has(packKey(chunk.pack!)));

    // Readers reduce by clock: the kept content is no head, so it is not resurrected.
    const pulled = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/proj", dest]);
    assert.equal(pulled.deleted, 1);
    await assert.rejects(() => Deno.lstat(join(dest, "gone.bin")), Deno.errors.NotFound);
    const listed = await b.tcfsJson<{ path: string }[]>(["ls", "tcfs/default/proj"]);
    assert.deepEqual(listed.map((entry) => entry.path), ["proj/keep.txt"]);
    const status = await b.tcfsJson<{ path: string; state: string }[]>(["sync-status", dest]);
    assert.deepEqual(status.map((row) => [row.path, row.state]), [["proj/keep.txt", "synced"]]);
    const quiet = await b.tcfsJson<PushSummary>(["push", dest]);
    assert.equal(quiet.files + quiet.deleted, 0);
  } finally {
    await tmp.remove();
  }
});
