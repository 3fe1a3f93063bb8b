import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { comparePaths } from "../../../core/paths/path_order.ts";
import { mergeByPath } from "../../../core/paths/path_merge.ts";
import { scanFolder } from "../../../core/sync/local_scanner.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import { sampleTracked } from "../../support/tracked_entry.ts";

/**
 * Names whose orders disagree: a folder beside names that sort between its name and its
 * name with a "/", characters beyond U+FFFF beside U+E000–U+FFFF (JavaScript's `<` and
 * UTF-8 disagree there), accents and CJK.
 */
const PATHS = [
  "a.txt",
  "a/b",
  "a/b.txt/c",
  "a/b0",
  "a-b",
  "a0",
  "b/\u{1F600}.txt",
  "b/\uE000.txt",
  "b/\uFFFD.txt",
  "b/z.txt",
  "c/é",
  "c/中/x",
  "c/中.txt",
];

Deno.test("a folder scan, the tracked rows and comparePaths agree on the order of paths", async () => {
  const root = await Deno.makeTempDir({ prefix: "tcfs-path-order-" });
  const state = await StateDb.open(join(root, ".state", "state.db"));
  try {
    for (const [i, path] of [...PATHS].reverse().entries()) {
      await Deno.mkdir(join(root, "tree", dirname(path)), { recursive: true });
      await Deno.writeTextFile(join(root, "tree", path), "x");
      state.putTracked(sampleTracked(path, { baseKey: `k${i}` }));
    }
    const scanned = (await Array.fromAsync(scanFolder(join(root, "tree"), () => false)))
      .map((e) => e.rel);
    const ns = sampleTracked("x").namespace;
    const rows = [...state.trackedStats(ns)].map((t) => t.path);
    const sorted = [...PATHS].sort(comparePaths);
    assert.deepEqual(scanned, sorted);
    assert.deepEqual(rows, sorted);
    // Not JavaScript's order: the emoji comes after U+E000 and U+FFFD.
    assert.notDeepEqual([...PATHS].sort(), sorted);
  } finally {
    state.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a folder scan and the tracked rows resume past any path, in the same order", async () => {
  const root = await Deno.makeTempDir({ prefix: "tcfs-path-resume-" });
  const state = await StateDb.open(join(root, ".state", "state.db"));
  try {
    for (const [i, path] of PATHS.entries()) {
      await Deno.mkdir(join(root, "tree", dirname(path)), { recursive: true });
      await Deno.writeTextFile(join(root, "tree", path), "x");
      state.putTracked(sampleTracked(path, { baseKey: `k${i}` }));
    }
    const ns = sampleTracked("x").namespace;
    const sorted = [...PATHS].sort(comparePaths);
    // Past each path, a folder's name ("a", "c/中") and names no entry has ("a/a", "b/zz").
    for (const after of [...sorted, "a", "a/a", "a/b.txt", "b/zz", "c/中", "0", "d"]) {
      const past = sorted.filter((path) => comparePaths(path, after) > 0);
      const scanned = await Array.fromAsync(
        scanFolder(join(root, "tree"), () => false, undefined, undefined, after),
        (e) => e.rel,
      );
      assert.deepEqual(scanned, past, `the scan past ${after}`);
      const rows = [...state.trackedStats(ns, "", after)].map((t) => t.path);
      assert.deepEqual(rows, past, `the rows past ${after}`);
    }
  } finally {
    state.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("mergeByPath pairs each path's items across sources, in order", async () => {
  async function* slowly(paths: string[]) {
    for (const path of paths) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      yield { rel: path };
    }
  }
  const merged = await Array.fromAsync(mergeByPath({
    local: { items: slowly(["a.txt", "a/b", "c"]), path: (e: { rel: string }) => e.rel },
    tracked: { items: ["a/b", "b", "c"], path: (p: string) => p },
  }));
  assert.deepEqual(merged, [
    { path: "a.txt", local: { rel: "a.txt" } },
    { path: "a/b", local: { rel: "a/b" }, tracked: "a/b" },
    { path: "b", tracked: "b" },
    { path: "c", local: { rel: "c" }, tracked: "c" },
  ]);
});

Deno.test("mergeByPath stops at a source out of order, and lets its sources go", async () => {
  let released = false;
  function* rows() {
    try {
      yield* ["a", "c", "b"];
    } finally {
      released = true;
    }
  }
  const merged = mergeByPath({
    tracked: { items: rows(), path: (p: string) => p },
    folded: { items: ["a", "b", "c"], path: (p: string) => p },
  });
  await assert.rejects(Array.fromAsync(merged), /tracked lists "b" after "c": not in path order/);
  assert.ok(released);
});
