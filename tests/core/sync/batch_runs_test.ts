import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { packKey } from "../../../core/remote/remote_keys.ts";
import { pathHeads } from "../../../core/sync/sync_context.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { assertSameTree } from "../../support/tree_compare.ts";

/** A range request, as the puller made it. */
interface RangeRead {
  key: string;
  offset: number;
  end: number;
}

Deno.test("a pull of two large files that share packs, a batch each, fetches each batch's own chunks: no range request takes in the other file's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-batch-runs-" });
  const store = createFsStore(join(dir, "store"));
  const a = await openSyncDevice(dir, "a", store);
  const b = await openSyncDevice(dir, "b", store);
  try {
    // Pushed as before lanes (pack_writer.ts): the two files share the common pack, their
    // chunks alternating, as a store written by an earlier tcfs holds them. 258 MiB in all:
    // more than a batch's 256 MiB (pull.ts), so each file is a batch.
    a.ctx.packLanes = 0;
    const size = 129 * 1024 * 1024;
    await Deno.writeFile(join(a.root, "one.bin"), randomBytes(size, 1));
    await Deno.writeFile(join(a.root, "two.bin"), randomBytes(size, 2));
    await a.pushAll();

    // Where each file's chunks lie, pack by pack.
    const owners = new Map<string, { offset: number; end: number; file: string }[]>();
    for (const file of ["one.bin", "two.bin"]) {
      const [head] = (await pathHeads(a.ctx, file)).heads;
      for (const ref of head.version.chunks) {
        const key = packKey(ref.pack!);
        if (!owners.has(key)) owners.set(key, []);
        owners.get(key)!.push({ offset: ref.offset!, end: ref.offset! + ref.length!, file });
      }
    }
    const shared = [...owners.values()].filter((slices) =>
      new Set(slices.map((s) => s.file)).size > 1
    );
    assert.ok(shared.length > 0, "the push laid both files' chunks side by side in some packs");

    const reads: RangeRead[] = [];
    b.ctx.store = {
      ...store,
      getRange(key: string, offset: number, length: number) {
        reads.push({ key, offset, end: offset + length });
        return store.getRange(key, offset, length);
      },
    } satisfies ObjectStore;
    const pulled = await b.pullAll();
    assert.equal(pulled.files, 2);
    await assertSameTree(a.root, b.root);

    // A run planned across both batches was fetched whole by the first and held, for the
    // second's slices, until the second batch began: up to the prefetch's whole budget.
    for (const read of reads) {
      const files = new Set(
        (owners.get(read.key) ?? [])
          .filter((slice) => slice.offset < read.end && read.offset < slice.end)
          .map((slice) => slice.file),
      );
      assert.ok(files.size <= 1, `${read.key} ${read.offset}-${read.end} takes in ${[...files]}`);
    }
  } finally {
    a[Symbol.dispose]();
    b[Symbol.dispose]();
    await Deno.remove(dir, { recursive: true });
  }
});
