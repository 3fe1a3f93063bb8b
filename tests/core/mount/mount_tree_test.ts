/**
 * The mount's tree: a change pushed and settled shows from its heads in place (no read of the
 * whole namespace), with the counts the build would give.
 */

import assert from "node:assert/strict";
import {
  applyLocalChange,
  buildMountTree,
  type MountTree,
  newInodeTable,
  showHeads,
} from "../../../core/mount/mount_tree.ts";
import type { StoredVersion } from "../../../core/journal/stored_version.ts";
import type { FoldedListing } from "../../../core/journal/folded_versions.ts";
import type { VersionKind } from "../../../core/remote/file_version.ts";

function head(path: string, n: number, kind: VersionKind = "file", size = 10 * n): StoredVersion {
  return {
    key: `ns/t/v/${path}/dev-${n}.json`,
    version: {
      format: 2,
      path,
      kind,
      size: kind === "file" ? size : 0,
      mode: 0o644,
      mtime_ms: 1_700_000_000_000 + n,
      blake3: "",
      chunks: [],
      vclock: { dev: n },
      author: "dev",
      author_name: "dev",
      written_at: new Date(1_700_000_000_000 + n).toISOString(),
    },
  };
}

/** Each path's one head, as the fold lists it (in path order). */
function paths(...heads: StoredVersion[]): FoldedListing[] {
  return heads.map(({ key, version: v }) => ({
    path: v.path,
    key,
    kind: v.kind,
    size: v.size,
    mode: v.mode,
    mtimeMs: v.mtime_ms,
  })).sort((a, b) => a.path < b.path ? -1 : 1);
}

function at(tree: MountTree, rel: string) {
  const node = tree.nodes.get(tree.inodes.byPath.get(rel) ?? 0);
  const parentRel = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
  const parent = tree.nodes.get(tree.inodes.byPath.get(parentRel) ?? 0);
  return parent?.children?.get(rel.slice(rel.lastIndexOf("/") + 1)) === node?.ino
    ? node
    : undefined;
}

Deno.test("showHeads: a settled edit shows its pushed version, counted as a build counts it", () => {
  const inodes = newInodeTable();
  const tree = buildMountTree(paths(head("a.txt", 1), head("d/b.txt", 2)), "", inodes, new Map());
  assert.deepEqual([tree.files, tree.bytes], [2, 30]);
  const ino = at(tree, "a.txt")!.ino;
  applyLocalChange(tree, "a.txt", {
    kind: "file",
    staged: "/staging/x",
    size: 99,
    perm: 0o644,
    mtimeMs: 5,
    base: head("a.txt", 1),
  });

  const pushed = head("a.txt", 7, "file", 99);
  showHeads(tree, "a.txt", [pushed]);
  const shown = at(tree, "a.txt")!;
  assert.equal(shown.ino, ino, "the path keeps its inode");
  assert.equal(shown.key, pushed.key);
  assert.equal(shown.local, undefined);
  const rebuilt = buildMountTree(paths(pushed, head("d/b.txt", 2)), "", inodes, new Map());
  assert.deepEqual([tree.files, tree.bytes], [rebuilt.files, rebuilt.bytes]);
});

Deno.test("showHeads: a new file appears with its folders; a deletion detaches the node", () => {
  const tree = buildMountTree(paths(head("a.txt", 1)), "", newInodeTable(), new Map());
  showHeads(tree, "new/deep/c.txt", [head("new/deep/c.txt", 3)]);
  assert.equal(at(tree, "new/deep/c.txt")?.size, 30);
  assert.equal(at(tree, "new/deep")?.kind, "dir");
  assert.deepEqual([tree.files, tree.bytes], [2, 40]);

  showHeads(tree, "a.txt", [head("a.txt", 4, "deleted")]);
  assert.equal(at(tree, "a.txt"), undefined);
  assert.deepEqual([tree.files, tree.bytes], [1, 30]);
  showHeads(tree, "gone.txt", []);
  assert.deepEqual([tree.files, tree.bytes], [1, 30]);
});

Deno.test("showHeads: a folder of this mount where the remote now has a file stays as it is", () => {
  const tree = buildMountTree([], "", newInodeTable(), new Map());
  applyLocalChange(tree, "made", { kind: "dir", mtimeMs: 1 });
  showHeads(tree, "made", [head("made", 1)]);
  assert.equal(at(tree, "made")?.kind, "dir");
  assert.equal(tree.files, 0);
});
