/**
 * The tree a mount shows: folders, files and links under a remote prefix, built from the
 * namespace's heads alone, so listing and `stat` never read content. Each path shows its
 * newest head, as `tcfs ls` does; deleted paths are hidden. Node 1 is the root. Inode numbers
 * stay with their path from one build to the next (an {@linkcode InodeTable}), so a tree read
 * again after remote changes keeps what the kernel already knows valid.
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
  /** Its stored key: a different key is different content. */
  key?: string;
  /** Children by name, for folders. */
  children?: Map<string, number>;
  mtimeMs: number;
}

/** Inode of the mounted prefix. */
export const ROOT_INO = 1;

/** Inode numbers by path ("" for the root), kept across builds of one mount. */
export interface InodeTable {
  byPath: Map<string, number>;
  next: number;
}

/**
 * A table holding only the root.
 *
 * @example
 * ```ts
 * const inodes = newInodeTable();
 * const tree = buildMountTree(byPath.values(), "", inodes);
 * ```
 */
export function newInodeTable(): InodeTable {
  return { byPath: new Map([["", ROOT_INO]]), next: ROOT_INO + 1 };
}

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
 * const tree = buildMountTree(byPath.values(), "docs", newInodeTable());
 * ```
 */
export function buildMountTree(
  paths: Iterable<PathHeads>,
  prefix: string,
  inodes: InodeTable,
): MountTree {
  const root: MountNode = { ino: ROOT_INO, kind: "dir", children: new Map(), mtimeMs: 0 };
  const tree: MountTree = { nodes: new Map([[ROOT_INO, root]]), files: 0, bytes: 0 };
  const add = (rel: string, node: Omit<MountNode, "ino">): MountNode => {
    let ino = inodes.byPath.get(rel);
    if (ino === undefined) inodes.byPath.set(rel, ino = inodes.next++);
    const full = { ino, ...node };
    tree.nodes.set(full.ino, full);
    return full;
  };
  const sorted = [...paths].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const { path, heads } of sorted) {
    const { version, key } = newestHead(heads);
    if (version.kind === "deleted") continue;
    const rel = prefix === ""
      ? path
      : path.startsWith(prefix + "/")
      ? path.slice(prefix.length + 1)
      : undefined;
    if (!rel) continue;
    const names = rel.split("/");
    let dir: MountNode | undefined = root;
    for (const [depth, name] of names.slice(0, -1).entries()) {
      const known: MountNode | undefined = tree.nodes.get(dir.children!.get(name) ?? 0);
      if (known && known.kind !== "dir") {
        dir = undefined;
        break;
      }
      dir.mtimeMs = Math.max(dir.mtimeMs, version.mtime_ms);
      if (known) dir = known;
      else {
        const made = add(names.slice(0, depth + 1).join("/"), {
          kind: "dir",
          children: new Map(),
          mtimeMs: version.mtime_ms,
        });
        dir.children!.set(name, made.ino);
        dir = made;
      }
    }
    if (!dir || dir.children!.has(names.at(-1)!)) continue;
    dir.mtimeMs = Math.max(dir.mtimeMs, version.mtime_ms);
    const node = add(rel, { kind: version.kind, version, key, mtimeMs: version.mtime_ms });
    dir.children!.set(names.at(-1)!, node.ino);
    if (version.kind === "file") {
      tree.files++;
      tree.bytes += version.size;
    }
  }
  return tree;
}

/**
 * The files of `after` whose content differs from what `before` showed under the same inode:
 * what the kernel must drop from its page cache.
 *
 * @example
 * ```ts
 * for (const ino of changedFiles(old, fresh)) session.invalidate(ino);
 * ```
 */
export function changedFiles(before: MountTree, after: MountTree): number[] {
  const changed: number[] = [];
  for (const [ino, node] of after.nodes) {
    const old = before.nodes.get(ino);
    if (node.key !== undefined && old?.key !== undefined && old.key !== node.key) changed.push(ino);
  }
  return changed;
}
