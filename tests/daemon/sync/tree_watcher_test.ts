import assert from "node:assert/strict";
import { join } from "node:path";
import { watchTree } from "../../../daemon/sync/tree_watcher.ts";

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    assert.ok(i < 100, what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("changes below the root arrive as root-relative paths, and a rename as [old, new]", async () => {
  const root = await Deno.makeTempDir();
  const changed = new Set<string>();
  const renames: [string, string][] = [];
  const watcher = watchTree({
    root,
    onChange(paths, rename) {
      paths.forEach((p) => changed.add(p));
      if (rename) renames.push(rename);
    },
    onRescan: () => {},
    onFailure: (err) => assert.fail(err.message),
  });
  try {
    await Deno.mkdir(join(root, "new", "deeper"), { recursive: true });
    // A new folder is watched once its creation is seen, so a file written into it at once can
    // come before the watch (the daemon rescans for that): it is written until it is seen.
    for (let i = 0; !changed.has("new/deeper/f.txt"); i++) {
      assert.ok(i < 50, "a file in a folder made after the start");
      await Deno.writeTextFile(join(root, "new", "deeper", "f.txt"), "x");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Deno.rename(join(root, "new", "deeper", "f.txt"), join(root, "g.txt"));
    await until(() => renames.length > 0, "the rename");
    assert.deepEqual(renames, [["new/deeper/f.txt", "g.txt"]]);
    assert.ok(![...changed].some((p) => p.startsWith("/") || p === ""));
    // A name that starts with two dots is inside the root like any other.
    await Deno.writeTextFile(join(root, "..notes"), "y");
    await until(() => changed.has("..notes"), "a file named ..notes");
  } finally {
    watcher.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("when the OS refuses watches the failure is reported once, and nothing else", async () => {
  const failures: Error[] = [];
  const watcher = watchTree({
    root: "/does/not/matter",
    watch: () => {
      throw new Error("No space left on device (os error 28)");
    },
    onChange: () => assert.fail("no changes from a failed watcher"),
    onRescan: () => assert.fail("no rescans either"),
    onFailure: (err) => failures.push(err),
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  watcher.close();
  assert.deepEqual(failures.map((e) => e.message), ["No space left on device (os error 28)"]);
});

Deno.test("a watcher that fails while running reports it once and stops", async () => {
  const failures: Error[] = [];
  let closed = 0;
  watchTree({
    root: "/root",
    watch: () => ({
      async *[Symbol.asyncIterator]() {
        yield { kind: "create", paths: ["/root/a.txt"] } as Deno.FsEvent;
        throw new Error("Too many open files (os error 24)");
      },
      close: () => void closed++,
    }),
    onChange: (paths) => assert.deepEqual(paths, ["a.txt"]),
    onRescan: () => {},
    onFailure: (err) => failures.push(err),
  });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(failures.length, 1);
  assert.equal(closed, 1);
});
