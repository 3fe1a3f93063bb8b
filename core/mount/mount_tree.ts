/**
 * The tree a mount shows: folders, files and links under a remote prefix, built from the
 * namespace's heads alone, so listing and `stat` never read content. Each path shows its
 * newest head, as `tcfs ls` does; deleted paths are hidden. Node 1 is the root.
 *
 * @module
 */

import type { FileVersion } from "../remote/file_version.ts";
import type { PathHeads } from "../journal/stored_version.ts";
import { newestHead } from "../sync/remote_listing.ts";

/** One node of the tree. */
export interface MountNode {
  ino: number;
  kind: "dir" | "file" | "symlink";
  /** The version shown, for files and links. */
  version?: FileVersion;
  /** Children by name, for folders. */
  children?: Map<string, number>;
  mtimeMs: number;
}

/** Inode of the mounted prefix. */
export const ROOT_INO = 1;

/** A built tree: nodes by inode. */
export interface MountTree {
  nodes: Map<number, MountNode>;
  files: number;
  bytes: number;
}

/**
 * Builds the tree of the paths under `prefix` ("" for the whole namespace) from their heads.
 * A path that would need a file as a folder (a remote that holds both `a` and `a/b`) keeps the
 * file and hides what lies below it.
 *
 * @example
 * ```ts
 * const { byPath } = await namespaceHeads(ctx, (rel) => isUnderRel(rel, "docs"));
 * const tree = buildMountTree(byPath.values(), "docs");
 * ```
 */
export function buildMountTree(paths: Iterable<PathHeads>, prefix: string): MountTree {
  const root: MountNode = { ino: ROOT_INO, kind: "dir", children: new Map(), mtimeMs: 0 };
  const tree: MountTree = { nodes: new Map([[ROOT_INO, root]]), files: 0, bytes: 0 };
  const add = (node: Omit<MountNode, "ino">): MountNode => {
    const full = { ino: tree.nodes.size + 1, ...node };
    tree.nodes.set(full.ino, full);
    return full;
  };
  const sorted = [...paths].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const { path, heads } of sorted) {
    const version = newestHead(heads).version;
    if (version.kind === "deleted") continue;
    const rel = prefix === ""
      ? path
      : path.startsWith(prefix + "/")
      ? path.slice(prefix.length + 1)
      : undefined;
    if (!rel) continue;
    const names = rel.split("/");
    let dir: MountNode | undefined = root;
    for (const name of names.slice(0, -1)) {
      const known: MountNode | undefined = tree.nodes.get(dir.children!.get(name) ?? 0);
      if (known && known.kind !== "dir") {
        dir = undefined;
        break;
      }
      dir.mtimeMs = Math.max(dir.mtimeMs, version.mtime_ms);
      if (known) dir = known;
      else {
        const made = add({ kind: "dir", children: new Map(), mtimeMs: version.mtime_ms });
        dir.children!.set(name, made.ino);
        dir = made;
      }
    }
    if (!dir || dir.children!.has(names.at(-1)!)) continue;
    dir.mtimeMs = Math.max(dir.mtimeMs, version.mtime_ms);
    const node = add({ kind: version.kind, version, mtimeMs: version.mtime_ms });
    dir.children!.set(names.at(-1)!, node.ino);
    if (version.kind === "file") {
      tree.files++;
      tree.bytes += version.size;
    }
  }
  return tree;
}
