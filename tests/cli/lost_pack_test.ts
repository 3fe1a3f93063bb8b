import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { cliStoreBackends } from "../support/cli_store_backends.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { packKey } from "../../core/remote/remote_keys.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";
import { storeHeads } from "../support/journal_store.ts";

/** The packs the head of each path in `namespace` names (the test never has two heads). */
async function packsByPath(store: ObjectStore, namespace: string) {
  const byPath = new Map<string, string[]>();
  for (const [path, { heads }] of (await storeHeads(store, namespace)).byPath) {
    assert.equal(heads.length, 1);
    byPath.set(path, [...new Set(heads[0].version.chunks.map((chunk) => chunk.pack!))]);
  }
  return byPath;
}

const backends = cliStoreBackends("lost");

for (const backend of backends) {
  Deno.test(`${backend.name}: a push does not name a pack the store lost; it uploads the chunks again`, async () => {
    const tmp = await makeScopedTempDir("tcfs-lost-pack-");
    try {
      const target = backend.setup(tmp.path);
      const a = await makeDeviceHome(tmp.path, "devA", target.env);
      const b = await makeDeviceHome(tmp.path, "devB", target.env);
      const src = join(a.home, "lab");
      await Deno.mkdir(src);
      await writeRandomFile(join(src, "data.bin"), 300_000, 4711);
      await a.tcfsJson<PushSummary>(["push", src]);

      using store = target.store();
      const lost = (await packsByPath(store, target.namespace)).get("lab/data.bin")!;
      assert.ok(lost.length > 0);
      // The store comes back from a backup taken before this pack was written.
      for (const pack of lost) await store.delete(packKey(pack));

      // The same bytes under another path: cross-path dedup would name the lost pack.
      await Deno.copyFile(join(src, "data.bin"), join(src, "copy.bin"));
      const pushed = await a.tcfsJson<PushSummary>(["push", src]);
      assert.equal(pushed.files, 1);
      assert.ok(pushed.chunks_uploaded > 0, "the chunks go up again");

      const copyPacks = (await packsByPath(store, target.namespace)).get("lab/copy.bin")!;
      assert.ok(copyPacks.length > 0);
      for (const pack of copyPacks) {
        assert.ok(await store.has(packKey(pack)), `lab/copy.bin names missing pack ${pack}`);
      }
      const dest = join(b.home, "copy.bin");
      const pulled = await b.tcfs([
        "pull",
        `${target.bucket}/${target.namespace}/lab/copy.bin`,
        dest,
      ]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.deepEqual(await Deno.readFile(dest), await Deno.readFile(join(src, "data.bin")));
    } finally {
      await tmp.remove();
    }
  });
}

for (const backend of backends) {
  Deno.test(`${backend.name}: an edit pushed after the store lost the file's pack uploads the unchanged chunks again`, async () => {
    const tmp = await makeScopedTempDir("tcfs-lost-pack-edit-");
    try {
      const target = backend.setup(tmp.path);
      const a = await makeDeviceHome(tmp.path, "devA", target.env);
      const b = await makeDeviceHome(tmp.path, "devB", target.env);
      const file = join(a.home, "disk.img");
      await writeRandomFile(file, 3_000_000, 4712);
      await a.tcfsJson<PushSummary>(["push", file]);
      using store = target.store();
      const lost = (await packsByPath(store, target.namespace)).get("disk.img")!;
      for (const pack of lost) await store.delete(packKey(pack));

      // A small edit near the end: the edit walk would name every earlier chunk as it was.
      using handle = await Deno.open(file, { write: true });
      await handle.seek(2_900_000, Deno.SeekMode.Start);
      await handle.write(new TextEncoder().encode("edited"));
      handle.close();
      assert.equal((await a.tcfsJson<PushSummary>(["push", file])).files, 1);

      for (const pack of (await packsByPath(store, target.namespace)).get("disk.img")!) {
        assert.ok(await store.has(packKey(pack)), `disk.img names missing pack ${pack}`);
      }
      const dest = join(b.home, "disk.img");
      const pulled = await b.tcfs([
        "pull",
        `${target.bucket}/${target.namespace}/disk.img`,
        dest,
      ]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.deepEqual(await Deno.readFile(dest), await Deno.readFile(file));
    } finally {
      await tmp.remove();
    }
  });
}
