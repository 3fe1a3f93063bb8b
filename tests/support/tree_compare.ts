/**
 * Compares two folders the way a user would: same paths, same bytes, same
 * permission bits, same mtimes (to the millisecond), same link targets.
 *
 * @module
 */

import { join } from "node:path";
import assert from "node:assert/strict";

/** What a folder holds, path by path. */
export type TreeSnapshot = Map<
  string,
  { kind: string; mode: number; mtimeMs: number; content: string }
>;

/**
 * Reads a folder into a snapshot (file contents as hex of a SHA-256, links as targets).
 *
 * @example
 * ```ts
 * const snap = await snapshotTree("/tmp/a");
 * ```
 */
export async function snapshotTree(root: string, rel = ""): Promise<TreeSnapshot> {
  const out: TreeSnapshot = new Map();
  for await (const entry of Deno.readDir(join(root, rel))) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    const path = join(root, childRel);
    const info = await Deno.lstat(path);
    if (info.isDirectory) {
      for (const [k, v] of await snapshotTree(root, childRel)) out.set(k, v);
    } else if (info.isSymlink) {
      out.set(childRel, {
        kind: "symlink",
        mode: 0,
        mtimeMs: 0,
        content: await Deno.readLink(path),
      });
    } else {
      const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
      out.set(childRel, {
        kind: "file",
        mode: info.mode! & 0o7777,
        mtimeMs: info.mtime!.getTime(),
        content: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(
          "",
        ),
      });
    }
  }
  return out;
}

/**
 * Asserts two folders hold the same files, bytes, modes, mtimes and links.
 *
 * @example
 * ```ts
 * await assertSameTree("/tmp/a", "/tmp/b");
 * ```
 */
export async function assertSameTree(expected: string, actual: string): Promise<void> {
  const a = await snapshotTree(expected);
  const b = await snapshotTree(actual);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [path, want] of a) assert.deepEqual(b.get(path), want, `mismatch at ${path}`);
}
