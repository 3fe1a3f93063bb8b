import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeFileStoreDevices } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { assertSameTree } from "../support/tree_compare.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** Two devices on one file:// store, each syncing its folder `s` with `tcfs/default/s`. */
async function fleet(prefix: string) {
  const tmp = await makeScopedTempDir(prefix);
  const [a, b] = await makeFileStoreDevices(tmp.path, "devA", "devB");
  const folder = (device: DeviceHome) => join(device.home, "s");
  const push = (device: DeviceHome) =>
    device.tcfsJson<PushSummary>(["push", folder(device), "tcfs/default/s"]);
  const pull = (device: DeviceHome, allowCodes: number[] = []) =>
    device.tcfsJson<PullSummary>(["pull", "tcfs/default/s", folder(device)], { allowCodes });
  return { tmp, a, b, folder, push, pull };
}

/** Makes `p` (under `root`) a file, a folder holding files, or a symlink, whatever it was. */
async function makeKind(root: string, kind: "file" | "folder" | "symlink", step: number) {
  const p = join(root, "p");
  await Deno.remove(p, { recursive: true }).catch(() => {});
  if (kind === "file") await Deno.writeTextFile(p, `file at step ${step}\n`);
  else if (kind === "symlink") await Deno.symlink(`other-${step % 2}.txt`, p);
  else {
    await Deno.mkdir(join(p, "deeper"), { recursive: true });
    for (let i = 0; i < 3; i++) await Deno.writeTextFile(join(p, `f${i}.txt`), `${step}/${i}\n`);
    await Deno.writeTextFile(join(p, "deeper", "g.txt"), `deeper ${step}\n`);
  }
}

Deno.test("every type change of a path (file, folder, symlink, both ways) reaches the other device", async () => {
  const { tmp, a, b, folder, push, pull } = await fleet("tcfs-type-change-");
  try {
    await Deno.mkdir(folder(a));
    for (const name of ["other-0.txt", "other-1.txt"]) {
      await Deno.writeTextFile(join(folder(a), name), `${name}\n`);
    }
    await makeKind(folder(a), "file", 0);
    await push(a);
    await pull(b);
    await assertSameTree(folder(a), folder(b));
    // Each step changes p's kind on one device; the devices take turns, so every change
    // travels in both directions over the six steps.
    const steps = ["folder", "file", "symlink", "file", "folder", "symlink", "folder"] as const;
    const transitions = new Set<string>();
    for (const [i, kind] of steps.entries()) {
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
      await makeKind(folder(writer), kind, i + 1);
      // Files beside p change in the same push: none of them may be held up by p.
      for (let n = 0; n < 40; n++) {
        await Deno.writeTextFile(join(folder(writer), `beside-${n}.txt`), `${i}:${n}\n`);
      }
      const pushed = await push(writer);
      assert.deepEqual(pushed.failures, [], `step ${i + 1} push`);
      const pulled = await pull(reader);
      assert.deepEqual(pulled.failures, [], `step ${i + 1} pull`);
      await assertSameTree(folder(writer), folder(reader));
      transitions.add(`${i === 0 ? "file" : steps[i - 1]}→${kind}`);
    }
    assert.equal(transitions.size, 6, [...transitions].join(", "));
    const p = join(folder(b), "p");
    assert.ok((await Deno.lstat(p)).isDirectory);
    assert.equal(await Deno.readTextFile(join(p, "deeper", "g.txt")), "deeper 7\n");
  } finally {
    await tmp.remove();
  }
});

Deno.test("a folder replaced remotely by a file is kept while it holds a file that is not a synced deletion", async () => {
  const { tmp, a, b, folder, push, pull } = await fleet("tcfs-type-keep-");
  try {
    await Deno.mkdir(join(folder(a), "d"), { recursive: true });
    await Deno.writeTextFile(join(folder(a), "d", "synced.txt"), "synced\n");
    await Deno.writeTextFile(join(folder(a), "other.txt"), "v1\n");
    await push(a);
    await pull(b);
    await Deno.writeTextFile(join(folder(b), "d", "mine.txt"), "never synced\n");

    await Deno.remove(join(folder(a), "d"), { recursive: true });
    await Deno.writeTextFile(join(folder(a), "d"), "now a file\n");
    await Deno.writeTextFile(join(folder(a), "other.txt"), "v2\n");
    await push(a);
    const pulled = await pull(b, [1]);
    assert.deepEqual(pulled.failures.map((f) => f.path), ["s/d"]);
    assert.match(pulled.failures[0].error, /mine\.txt in it is not a synced deletion; kept/);
    // The user's file stays, the synced one that A deleted goes, and the rest arrives.
    assert.equal(await Deno.readTextFile(join(folder(b), "d", "mine.txt")), "never synced\n");
    await assert.rejects(Deno.lstat(join(folder(b), "d", "synced.txt")), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(join(folder(b), "other.txt")), "v2\n");

    // Once the user moves the file away, the next pull brings A's file.
    await Deno.rename(join(folder(b), "d", "mine.txt"), join(b.home, "mine.txt"));
    const again = await pull(b);
    assert.deepEqual(again.failures, []);
    assert.equal(await Deno.readTextFile(join(folder(b), "d")), "now a file\n");
  } finally {
    await tmp.remove();
  }
});

Deno.test("a pull of just the path (as the daemon's on an event) replaces a folder whose files all were deleted remotely", async () => {
  const { tmp, a, b, folder, push, pull } = await fleet("tcfs-type-single-");
  try {
    await Deno.mkdir(join(folder(a), "d", "e"), { recursive: true });
    for (const rel of ["d/f1.txt", "d/f2.txt", "d/e/g.txt"]) {
      await Deno.writeTextFile(join(folder(a), rel), `${rel}\n`);
    }
    await push(a);
    await pull(b);
    await Deno.remove(join(folder(a), "d"), { recursive: true });
    await Deno.writeTextFile(join(folder(a), "d"), "now a file\n");
    await push(a);

    const pulled = await b.tcfsJson<PullSummary>([
      "pull",
      "tcfs/default/s/d",
      join(folder(b), "d"),
    ]);
    assert.deepEqual([pulled.files, pulled.failures], [1, []]);
    assert.equal(await Deno.readTextFile(join(folder(b), "d")), "now a file\n");
    // The files it removed are recorded as deleted: B's next push has nothing to say.
    const pushed = await push(b);
    assert.deepEqual([pushed.files, pushed.deleted, pushed.unchanged], [0, 0, 1]);
    await assertSameTree(folder(a), folder(b));
  } finally {
    await tmp.remove();
  }
});
