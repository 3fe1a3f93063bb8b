/**
 * A pull writes up to 32 paths at once, and one path's restore may turn a folder into a link:
 * a remote holding `d -> /elsewhere` and `d/x.txt`, or `a/b -> ..`, `l1 -> a/b/..` (the
 * folder holding the sync root) and `l1/x.txt`, must never put x.txt outside, whichever
 * restore goes first. Once the links are pulled first, so the file's write surely comes
 * after them (a pull reads no object between planning a file and making its folder, so the
 * store cannot hold the file back); once the order is left to chance.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { plant, plantLink } from "../../support/hostile_fleet.ts";
import { pull } from "../../../core/sync/pull.ts";

/** Every file named `name` below `dir` but outside `root`. */
async function filesOutside(dir: string, root: string, name: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (path === root) continue;
    if (entry.name === name) found.push(path);
    if (entry.isDirectory) found.push(...await filesOutside(path, root, name));
  }
  return found;
}

/** Links, the one of them a file is written below, and that file. */
interface Clash {
  name: string;
  links: (tmp: string) => [string, string][];
  file: string;
}

const CLASHES: Clash[] = [
  {
    name: "l1 -> a/b/.. with a/b -> .., next to l1/x.txt",
    links: () => [["a/b", ".."], ["l1", "a/b/.."]],
    file: "l1/x.txt",
  },
  {
    name: "d -> an absolute folder outside, next to d/x.txt",
    links: (tmp) => [["d", join(tmp, "outside")]],
    file: "d/x.txt",
  },
];

for (const clash of CLASHES) {
  for (const hold of [true, false]) {
    const how = hold ? "the links pulled first" : "as it comes";
    Deno.test(`${clash.name}, ${how}: nothing lands outside`, async () => {
      const tmp = await Deno.makeTempDir({ prefix: "tcfs-link-race-" });
      try {
        await Deno.mkdir(join(tmp, "outside"));
        const store = createMemoryStore();
        const links = clash.links(tmp);
        for (const [path, target] of links) await plantLink(store, path, target);
        await plant(store, { path: clash.file });
        using device = await openSyncDevice(tmp, "dev", store);
        const root = device.root;
        for (const [path] of hold ? links : []) {
          const first = await pull(device.ctx, {
            remoteRel: path,
            localTarget: join(root, path),
            within: root,
          });
          assert.deepEqual(first.failures, []);
          assert.ok((await Deno.lstat(join(root, path))).isSymlink);
        }
        const summary = await device.pullAll();
        assert.deepEqual(await filesOutside(tmp, root, "x.txt"), []);
        // Whichever came second fails alone; the first stands as it was written.
        const failed = summary.failures.map((f) => f.path);
        if (hold || failed.includes(clash.file)) {
          assert.deepEqual(failed, [clash.file]);
          for (const [path, target] of links) {
            assert.equal(await Deno.readLink(join(root, path)), target);
          }
        } else {
          assert.deepEqual(failed, [clash.file.split("/")[0]]);
          assert.ok((await Deno.stat(join(root, clash.file))).isFile);
        }
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    });
  }
}

Deno.test("a one-path pull (the daemon's, on an event) never writes below a link in the sync root", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-link-event-" });
  try {
    const outside = join(tmp, "outside");
    await Deno.mkdir(outside);
    const store = createMemoryStore();
    await plant(store, { path: "d/x.txt" });
    using device = await openSyncDevice(tmp, "dev", store);
    // The link came after the event was checked (sync_loop.ts confines the path first).
    await Deno.symlink(outside, join(device.root, "d"));
    const summary = await pull(device.ctx, {
      remoteRel: "d/x.txt",
      localTarget: join(device.root, "d", "x.txt"),
      within: device.root,
    });
    assert.deepEqual(summary.failures.map((f) => f.path), ["d/x.txt"]);
    assert.match(summary.failures[0].error, /symlink/);
    assert.deepEqual([...Deno.readDirSync(outside)], []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
