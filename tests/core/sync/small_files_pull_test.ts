import assert from "node:assert/strict";
import { join } from "node:path";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { smallFileDigest } from "../../../core/remote/file_digest.ts";
import { pathHeads } from "../../../core/sync/sync_context.ts";
import { pull } from "../../../core/sync/pull.ts";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { withFaults } from "../../support/faulty_store.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { servicesStore } from "../../support/services_store.ts";
import { assertSameTree } from "../../support/tree_compare.ts";
import { plant } from "../../support/hostile_fleet.ts";

/** The store under test, and a namespace of this run's own on it. */
interface Backend {
  name: string;
  open(dir: string): ObjectStore & Disposable;
}

const backends: Backend[] = [
  {
    name: "fs",
    open: (dir) => Object.assign(createFsStore(join(dir, "store")), { [Symbol.dispose]() {} }),
  },
  { name: "seaweedfs", open: () => servicesStore() },
];

/** `store`, counting the packs written through it. */
function countingPacks(store: ObjectStore): ObjectStore & { packs: number } {
  const counted = {
    ...store,
    packs: 0,
    put: (key: string, body: Uint8Array, options?: Parameters<ObjectStore["put"]>[2]) => {
      if (key.startsWith("packs/")) counted.packs++;
      return store.put(key, body, options);
    },
  };
  return counted;
}

/** Devices a and b on `store` in a namespace of their own. */
async function pair(dir: string, store: ObjectStore, namespace = "default") {
  const a = await openSyncDevice(dir, "a", store);
  const b = await openSyncDevice(dir, "b", store);
  a.ctx.namespace = b.ctx.namespace = namespace;
  return { a, b };
}

/** Writes `count` small files (0 to 8,000 bytes) into folders of 100 below `root`. */
async function writeSmallFiles(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const folder = join(root, `d${i % 20}`);
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeFile(join(folder, `f${i}.bin`), randomBytes((i * 7919) % 8_001, i));
  }
}

for (const backend of backends) {
  Deno.test(`${backend.name}: a pull of 2,000 small files makes about one range request per pack, and a no-op pull looks at no file`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tcfs-small-pull-" });
    using store = backend.open(dir);
    const packs = countingPacks(store);
    const { a, b } = await pair(dir, packs, `small-pull-${crypto.randomUUID().slice(0, 8)}`);
    try {
      await writeSmallFiles(a.root, 2_000);
      const pushed = await a.pushAll();
      assert.equal(pushed.files, 2_000);
      assert.ok(packs.packs >= 2, `the files went into packs (${packs.packs})`);
      const counted = withFaults(store);
      b.ctx.store = counted;
      const pulled = await b.pullAll();
      assert.equal(pulled.files, 2_000);
      assert.deepEqual(pulled.failures, []);
      await assertSameTree(a.root, b.root);
      const ranges = counted.calls.getRange;
      assert.ok(
        ranges >= packs.packs && ranges <= 2 * packs.packs + 2,
        `${ranges} range requests for ${packs.packs} packs`,
      );

      const lstat = Deno.lstat;
      let looks = 0;
      Deno.lstat = (path) => {
        looks++;
        return lstat(path);
      };
      try {
        const again = await b.pullAll();
        assert.equal(again.unchanged, 2_000);
      } finally {
        Deno.lstat = lstat;
      }
      assert.ok(looks < 20, `a no-op pull of 2,000 paths made ${looks} lstat calls`);
    } finally {
      close(a, b);
      await Deno.remove(dir, { recursive: true });
    }
  });
}

function close(...devices: SyncDevice[]): void {
  for (const device of devices) device[Symbol.dispose]();
}

Deno.test("a small file goes into a pack as one chunk and comes back with its bytes, mode and digest; an empty file has no chunk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-small-file-" });
  using store = backends[0].open(dir);
  const { a, b } = await pair(dir, store);
  try {
    const bytes = randomBytes(16 * 1024, 5);
    await Deno.writeFile(join(a.root, "tool.sh"), bytes, { mode: 0o751 });
    await Deno.chmod(join(a.root, "tool.sh"), 0o751);
    await Deno.writeFile(join(a.root, "empty"), new Uint8Array());
    const pushed = await a.pushAll();
    assert.equal(pushed.chunks_uploaded, 1);

    const [head] = (await pathHeads(a.ctx, "tool.sh")).heads;
    assert.equal(head.version.inline, undefined);
    assert.equal(head.version.chunks.length, 1);
    assert.ok(head.version.chunks[0].pack, "the chunk sits in a pack");
    assert.equal(head.version.blake3, await smallFileDigest(bytes));
    const [empty] = (await pathHeads(a.ctx, "empty")).heads;
    assert.deepEqual(empty.version.chunks, []);
    assert.equal(empty.version.inline, undefined);
    assert.equal(empty.version.blake3, await smallFileDigest(new Uint8Array()));

    assert.equal((await b.pullAll()).files, 2);
    assert.deepEqual(await Deno.readFile(join(b.root, "tool.sh")), bytes);
    assert.equal((await Deno.stat(join(b.root, "tool.sh"))).mode! & 0o777, 0o751);
    assert.equal((await Deno.readFile(join(b.root, "empty"))).length, 0);

    // Touched but the same: its chunk is named again, not uploaded. Edited: the edit comes through.
    const later = new Date(Date.now() + 5_000);
    await Deno.utime(join(a.root, "tool.sh"), later, later);
    assert.equal((await a.pushAll()).chunks_uploaded, 0);
    await b.pullAll();
    await Deno.writeFile(join(b.root, "tool.sh"), bytes.subarray(0, 9_000));
    assert.equal((await b.pushAll()).chunks_uploaded, 1);
    assert.equal((await a.pullAll()).files, 1);
    assert.deepEqual(await Deno.readFile(join(a.root, "tool.sh")), bytes.subarray(0, 9_000));
    // Grown past one chunk, against the one chunk it had.
    const grown = randomBytes(300_000, 6);
    await Deno.writeFile(join(a.root, "tool.sh"), grown);
    await a.pushAll();
    await b.pullAll();
    assert.deepEqual(await Deno.readFile(join(b.root, "tool.sh")), grown);
  } finally {
    close(a, b);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an old version that carries its content inline still pulls", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-inline-" });
  using store = backends[0].open(dir);
  const { b } = await pair(dir, store);
  try {
    await plant(store, { path: "legacy.sh", mode: 0o755 });
    const pulled = await b.pullAll();
    assert.equal(pulled.files, 1);
    assert.equal(await Deno.readTextFile(join(b.root, "legacy.sh")), "#!/bin/sh\necho hi\n");
    assert.equal((await Deno.stat(join(b.root, "legacy.sh"))).mode! & 0o777, 0o755);
    // Again from the version cache, which keeps such a version without its bytes.
    const copy = join(dir, "copy");
    assert.equal((await pull(b.ctx, { remoteRel: "", localTarget: copy })).files, 1);
    assert.equal(await Deno.readTextFile(join(copy, "legacy.sh")), "#!/bin/sh\necho hi\n");
  } finally {
    close(b);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pull of more paths than a window restores them all, after every deletion, also when a folder became a file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-window-pull-" });
  using store = backends[0].open(dir);
  const { a, b } = await pair(dir, store);
  try {
    // Windows hold 2,048 paths: 4,200 span three of them, and each folder spans windows.
    await writeSmallFiles(a.root, 4_200);
    await a.pushAll();
    const first = await b.pullAll();
    assert.equal(first.files, 4_200);
    assert.deepEqual(first.failures, []);
    await assertSameTree(a.root, b.root);

    // d0 sorts first and becomes a file; d9's files go; 1,000 new files land in every window.
    await Deno.remove(join(a.root, "d0"), { recursive: true });
    await Deno.writeTextFile(join(a.root, "d0"), "a file now");
    for (const entry of Deno.readDirSync(join(a.root, "d9"))) {
      await Deno.remove(join(a.root, "d9", entry.name));
    }
    for (let i = 4_200; i < 5_200; i++) {
      await Deno.writeFile(join(a.root, `d${1 + i % 19}`, `f${i}.bin`), randomBytes(i % 500, i));
    }
    await a.pushAll();
    const second = await b.pullAll();
    assert.deepEqual(second.failures, []);
    assert.deepEqual(second.conflicts, []);
    assert.equal(second.deleted, 420);
    await assertSameTree(a.root, b.root);
    assert.equal(await Deno.readTextFile(join(b.root, "d0")), "a file now");
    // Every batch was recorded, those finished while the next was written too.
    const again = await b.pullAll();
    assert.deepEqual([again.files, again.deleted, again.failures.length], [0, 0, 0]);
  } finally {
    close(a, b);
    await Deno.remove(dir, { recursive: true });
  }
});
