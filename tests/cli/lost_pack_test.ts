import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { cliStoreBackends } from "../support/cli_store_backends.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { parseFileVersion } from "../../core/remote/file_version.ts";
import { namespaceVersionsPrefix, packKey } from "../../core/remote/remote_keys.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";

/** The packs every version in `namespace` names, by version key. */
async function packsByVersion(store: ObjectStore, namespace: string) {
  const byVersion = new Map<string, string[]>();
  for await (const info of store.list(namespaceVersionsPrefix(namespace))) {
    const version = parseFileVersion(await store.get(info.key) as Uint8Array, info.key);
    byVersion.set(info.key, [...new Set(version.chunks.map((chunk) => chunk.pack!))]);
  }
  return byVersion;
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
      const [[, lost]] = [...await packsByVersion(store, target.namespace)];
      assert.ok(lost.length > 0);
      // The store comes back from a backup taken before this pack was written.
      for (const pack of lost) await store.delete(packKey(pack));

      // The same bytes under another path: cross-path dedup would name the lost pack.
      await Deno.copyFile(join(src, "data.bin"), join(src, "copy.bin"));
      const pushed = await a.tcfsJson<PushSummary>(["push", src]);
      assert.equal(pushed.files, 1);
      assert.ok(pushed.chunks_uploaded > 0, "the chunks go up again");

      const versions = await packsByVersion(store, target.namespace);
      const copyVersion = [...versions].find(([, packs]) => packs !== lost)!;
      for (const pack of copyVersion[1]) {
        assert.ok(await store.has(packKey(pack)), `${copyVersion[0]} names missing pack ${pack}`);
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
      const [[, lost]] = [...await packsByVersion(store, target.namespace)];
      for (const pack of lost) await store.delete(packKey(pack));

      // A small edit near the end: the edit walk would name every earlier chunk as it was.
      using handle = await Deno.open(file, { write: true });
      await handle.seek(2_900_000, Deno.SeekMode.Start);
      await handle.write(new TextEncoder().encode("edited"));
      handle.close();
      assert.equal((await a.tcfsJson<PushSummary>(["push", file])).files, 1);

      const [[key, packs]] = [...await packsByVersion(store, target.namespace)];
      for (const pack of packs) {
        assert.ok(await store.has(packKey(pack)), `${key} names missing pack ${pack}`);
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
