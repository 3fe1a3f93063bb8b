import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { packKey } from "../../../core/remote/remote_keys.ts";
import { pathHeads } from "../../../core/sync/sync_context.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { assertSameTree } from "../../support/tree_compare.ts";
import { trueWithin } from "../../support/deadlines.ts";

Deno.test("a pull restores two large files at a time, each in ranges of its own packs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-large-pull-" });
  const store = createMemoryStore();
  const a = await openSyncDevice(dir, "a", store);
  const b = await openSyncDevice(dir, "b", store);
  try {
    const names = Array.from({ length: 6 }, (_, i) => `big${i}.bin`);
    for (const [i, name] of names.entries()) {
      await Deno.writeFile(join(a.root, name), randomBytes(5 * 1024 * 1024, 300 + i));
    }
    await Deno.writeTextFile(join(a.root, "small.txt"), "a small file beside them\n");
    await a.pushAll();
    // Each large file has packs of its own (pack_writer.ts): a read names its file.
    const fileOfPack = new Map<string, string>();
    let chunks = 0;
    for (const name of names) {
      const [head] = (await pathHeads(a.ctx, name)).heads;
      chunks += head.version.chunks.length;
      for (const ref of head.version.chunks) {
        const key = packKey(ref.pack!);
        assert.equal(fileOfPack.get(key) ?? name, name, `${key} holds two files`);
        fileOfPack.set(key, name);
      }
    }

    // Every read waits until the gate opens: what has asked by then is what runs at once.
    const gate = Promise.withResolvers<void>();
    const asked = new Set<string>();
    const reads: { key: string; length: number }[] = [];
    b.ctx.store = {
      ...store,
      async getRange(key: string, offset: number, length: number) {
        reads.push({ key, length });
        const file = fileOfPack.get(key);
        if (file) asked.add(file);
        await gate.promise;
        return await store.getRange(key, offset, length);
      },
    } satisfies ObjectStore;
    const pulling = b.pullAll();
    await trueWithin(() => asked.size >= 2, 10_000, "two large files to ask for their ranges");
    // Time for a third, were it allowed to start.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(asked.size, 2, `files read at once: ${[...asked]}`);
    gate.resolve();
    const pulled = await pulling;
    assert.equal(pulled.files, names.length + 1);
    await assertSameTree(a.root, b.root);
    assert.equal(asked.size, names.length);
    // Side by side in their packs, the files came down in ranges of up to 4 MiB, not a chunk
    // at a time.
    const large = reads.filter((read) => fileOfPack.has(read.key));
    assert.ok(large.length <= 3 * names.length, `${large.length} range reads`);
    assert.ok(large.length < chunks / 2, `${large.length} range reads for ${chunks} chunks`);
  } finally {
    a[Symbol.dispose]();
    b[Symbol.dispose]();
    await Deno.remove(dir, { recursive: true });
  }
});
