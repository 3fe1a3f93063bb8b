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
import type { PathHeads, StoredVersion } from "../journal/stored_version.ts";
import { newestHead } from "../sync/remote_listing.ts";

/** The remote version a change was made on: the version its push supersedes. */
export interface ChangeBase {
  key: string;
  version: FileVersion;
}

/**
 * A change made through the mount and not pushed yet (or being pushed). Its `base` (none for a
 * path new to the remote) is fixed when the path is first changed: a version another device
 * writes meanwhile and a refresh reads in is then met by the push as a conflict, never built on.
 */
export type LocalChange =
  & { base?: ChangeBase }
  & (
    | {
      kind: "file";
      /** The staged content: a file in the mount's staging folder. */
      staged: string;
      size: number;
      perm: number;
      mtimeMs: number;
    }
    | { kind: "symlink"; target: string; mtimeMs: number }
    | { kind: "dir"; mtimeMs: number }
    | { kind: "deleted" }
  );

/** One node of the tree. */
export interface MountNode {
  ino: number;
  /** Its path below the mounted prefix ("" for the root). */
  rel: string;
  kind: "dir" | "file" | "symlink";
  /** The remote version under this path, for files and links: shown, or the base of `local`. */
  version?: FileVersion;
  /** Its stored key: a different key is different content. */
  key?: string;
  /** What was changed through the mount; shown instead of `version`. */
  local?: LocalChange;
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
 * const tree = buildMountTree(byPath.values(), "", inodes, new Map());
 * ```
 */
export function newInodeTable(): InodeTable {
  return { byPath: new Map([["", ROOT_INO]]), next: ROOT_INO + 1 };
}

/** A built tree: nodes by inode. */
export interface MountTree {
  nodes: Map<number, MountNode>;
  inodes: InodeTable;
  files: number;
  bytes: number;
}

/**
 * Builds the tree of the paths under `prefix` ("" for the whole namespace) from their heads,
 * with the mount's own unpushed changes (`local`, by path below the prefix) on top.
 * A path that would need a file as a folder (a remote that holds both `a` and `a/b`) keeps the
 * file and hides what lies below it.
 *
 * @example
 * ```ts
 * const { byPath } = await namespaceHeads(ctx, (rel) => isUnderRel(rel, "docs"));
 * const tree = buildMountTree(byPath.values(), "docs", newInodeTable(), new Map());
 * ```
 */
export function buildMountTree(
  paths: Iterable<PathHeads>,
  prefix: string,
  inodes: InodeTable,
  local: ReadonlyMap<string, LocalChange>,
): MountTree {
  const root: MountNode = { ino: ROOT_INO, rel: "", kind: "dir", children: new Map(), mtimeMs: 0 };
  const tree: MountTree = { nodes: new Map([[ROOT_INO, root]]), inodes, files: 0, bytes: 0 };
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
    const node = placeNode(tree, rel, {
      kind: version.kind,
      version,
      key,
      mtimeMs: version.mtime_ms,
    });
    if (node && version.kind === "file") {
      tree.files++;
      tree.bytes += version.size;
    }
  }
  for (const [rel, change] of local) applyLocalChange(tree, rel, change);
  return tree;
}

/**
 * Shows `change` at `rel` in `tree` (in place), with the change's base as the node's remote
 * version; a deletion detaches the node from its folder.
 *
 * @example
 * ```ts
 * applyLocalChange(tree, "docs/new.txt", { kind: "file", staged, size: 0, perm: 0o644, mtimeMs });
 * ```
 */
export function applyLocalChange(tree: MountTree, rel: string, change: LocalChange): void {
  const known = tree.nodes.get(tree.inodes.byPath.get(rel) ?? 0);
  if (change.kind === "deleted") {
    const parent = tree.nodes.get(tree.inodes.byPath.get(parentRel(rel)) ?? 0);
    parent?.children?.delete(baseName(rel));
    return;
  }
  const attached = known && tree.nodes.get(tree.inodes.byPath.get(parentRel(rel)) ?? 0)?.children
        ?.get(baseName(rel)) === known.ino;
  placeNode(tree, rel, {
    kind: change.kind,
    version: change.base?.version,
    key: change.base?.key,
    local: change,
    mtimeMs: change.mtimeMs,
    ...(change.kind === "dir" ? { children: attached ? known.children : new Map() } : {}),
  }, true);
}

/**
 * Shows at `rel` what its `heads` hold now, in place: for a path whose change this mount has
 * just pushed and settled (no longer in `local`), so a write needs no read of the whole
 * namespace. A folder of this mount alone where the heads hold a file stays until the next read.
 *
 * @example
 * ```ts
 * showHeads(tree, "docs/a.txt", lastFoldedPath(ctx, "docs/a.txt").heads);
 * ```
 */
export function showHeads(tree: MountTree, rel: string, heads: StoredVersion[]): void {
  const known = tree.nodes.get(tree.inodes.byPath.get(rel) ?? 0);
  const parent = tree.nodes.get(tree.inodes.byPath.get(parentRel(rel)) ?? 0);
  const attached = known && parent?.children?.get(baseName(rel)) === known.ino;
  if (attached && known.kind === "dir") return;
  // Counted as the build counts: by the remote version a node shows, or is the base of.
  const counted = attached && known.version?.kind === "file" ? known.version.size : undefined;
  if (counted !== undefined) {
    tree.files--;
    tree.bytes -= counted;
  }
  const head = heads.length > 0 ? newestHead(heads) : undefined;
  const version = head?.version;
  if (!head || !version || version.kind === "deleted") {
    if (attached) parent!.children!.delete(baseName(rel));
    return;
  }
  const placed = placeNode(tree, rel, {
    kind: version.kind,
    version,
    key: head.key,
    mtimeMs: version.mtime_ms,
  }, true);
  if (placed && version.kind === "file") {
    tree.files++;
    tree.bytes += version.size;
  }
}

/**
 * Puts a node at `rel`, making the folders above it; returns it, or undefined when a file
 * stands where a folder is needed or (unless `replace`) the name is taken.
 */
function placeNode(
  tree: MountTree,
  rel: string,
  node: Omit<MountNode, "ino" | "rel">,
  replace = false,
): MountNode | undefined {
  const inoOf = (path: string) => {
    let ino = tree.inodes.byPath.get(path);
    if (ino === undefined) tree.inodes.byPath.set(path, ino = tree.inodes.next++);
    return ino;
  };
  const names = rel.split("/");
  let dir = tree.nodes.get(ROOT_INO)!;
  for (const [depth, name] of names.slice(0, -1).entries()) {
    dir.mtimeMs = Math.max(dir.mtimeMs, node.mtimeMs);
    const known = tree.nodes.get(dir.children!.get(name) ?? 0);
    if (known && known.kind !== "dir") return undefined;
    if (known) dir = known;
    else {
      const path = names.slice(0, depth + 1).join("/");
      const made: MountNode = {
        ino: inoOf(path),
        rel: path,
        kind: "dir",
        children: new Map(),
        mtimeMs: node.mtimeMs,
      };
      tree.nodes.set(made.ino, made);
      dir.children!.set(name, made.ino);
      dir = made;
    }
  }
  const name = names.at(-1)!;
  if (!replace && dir.children!.has(name)) return undefined;
  dir.mtimeMs = Math.max(dir.mtimeMs, node.mtimeMs);
  const placed: MountNode = { ino: inoOf(rel), rel, ...node };
  tree.nodes.set(placed.ino, placed);
  dir.children!.set(name, placed.ino);
  return placed;
}

/** The folder part of a path below the prefix ("" for the root). */
export function parentRel(rel: string): string {
  const slash = rel.lastIndexOf("/");
  return slash < 0 ? "" : rel.slice(0, slash);
}

function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf("/") + 1);
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
