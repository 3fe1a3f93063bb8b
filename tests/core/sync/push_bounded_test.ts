import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { assertSameTree } from "../../support/tree_compare.ts";
import { SEGMENT_MAX_VERSIONS } from "../../../core/journal/journal_codec.ts";

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
