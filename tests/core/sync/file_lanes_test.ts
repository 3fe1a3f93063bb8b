import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { createPackWriter, PACK_TARGET_BYTES } from "../../../core/sync/pack_writer.ts";
import { saveFile } from "../../../core/sync/file_saver.ts";
import { settlesWithin } from "../../support/deadlines.ts";

Deno.test("files saved at once that fill packs get packs of their own, chunks side by side; small ones share", async () => {
  const tmp = await makeScopedTempDir("tcfs-lanes-");
  try {
    const sizes = [PACK_TARGET_BYTES + (2 << 20), PACK_TARGET_BYTES + (3 << 20), 10_000, 20_000];
    for (const [i, size] of sizes.entries()) {
      await Deno.writeFile(join(tmp.path, `${i}`), randomBytes(size, 1700 + i));
    }
    const store = createMemoryStore();
    const packs = createPackWriter(store);
    const saved = await Promise.all(sizes.map((_, i) => saveFile(join(tmp.path, `${i}`), packs)));
    // The large files' packs went up when each was saved; the small files' wait for the flush.
    await settlesWithin(
      Promise.all(saved.slice(0, 2).map((s) => s.durable)),
      10_000,
      "the large files' lanes to store their packs",
    );
    packs.flush();
    await Promise.all(saved.map((s) => s.durable));

    const filesOfPack = new Map<string, Set<number>>();
    for (const [i, { content }] of saved.entries()) {
      for (const ref of content.chunks) {
        filesOfPack.set(ref.pack!, (filesOfPack.get(ref.pack!) ?? new Set()).add(i));
      }
    }
    for (const file of [0, 1]) {
      const chunks = saved[file].content.chunks;
      assert.ok(chunks.length > 4, `file ${file} has ${chunks.length} chunks`);
      for (const [i, ref] of chunks.entries()) {
        assert.deepEqual([...filesOfPack.get(ref.pack!)!], [file], `file ${file} shares no pack`);
        const before = chunks[i - 1];
        if (before?.pack === ref.pack) {
          assert.equal(ref.offset, before.offset! + before.length!, `file ${file} chunk ${i}`);
        } else assert.equal(ref.offset, 0, `file ${file} chunk ${i} starts its pack`);
      }
    }
    const [small1, small2] = [saved[2], saved[3]].map((s) => s.content.chunks[0].pack);
    assert.equal(small1, small2, "small files share the common pack");
    assert.deepEqual([...filesOfPack.get(small1!)!].sort(), [2, 3]);
  } finally {
    await tmp.remove();
  }
});
