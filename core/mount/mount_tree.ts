/**
 * The tree a mount shows: folders, files and links under a remote prefix, built from the
 * namespace's heads alone, so listing and `stat` never read content. Each path shows its
 * newest head, as `tcfs ls` does; deleted paths are hidden. Node 1 is the root. Inode numbers
 * stay with their path from one build to the next (an {@linkcode InodeTable}), so a tree read
 * again after remote changes keeps what the kernel already knows valid.
 *
 * A node keeps only what names and attributes need (the version's key, size, mode, mtime and a
 * link's target): the version itself, with its chunk list, stays in the fold and is read when
 * the file is opened. Versions held whole cost about 3 KB a file of RSS.
 *
 * @module
 */

import type { FileVersion } from "../remote/file_version.ts";
import type { StoredVersion } from "../journal/stored_version.ts";
import type { FoldedListing } from "../journal/folded_versions.ts";
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

/**
 * One node of the tree. For files and links, `key`, `size`, `mode` and `target` are those of
 * the remote version under the path (shown, or the base of `local`); a folder has no key.
 */
export interface MountNode {
  ino: number;
  /** Its path below the mounted prefix ("" for the root). */
  rel: string;
  kind: "dir" | "file" | "symlink";
  /** The remote version's stored key: a different key is different content. */
  key: string | undefined;
  size: number;
  /** Permission bits as the version records them. */
  mode: number;
  /** A link's text. */
  target: string | undefined;
  /** What was changed through the mount; shown instead of the remote version. */
  local: LocalChange | undefined;
  /** Children by name, for folders. */
  children: Map<string, number> | undefined;
  mtimeMs: number;
}

/** What a node shows of a remote version (or of none: a folder, a new path). */
type Shown = Pick<MountNode, "kind" | "key" | "size" | "mode" | "target" | "mtimeMs">;

function shownOf(key: string, version: FileVersion): Shown {
  return {
    kind: version.kind === "symlink" ? "symlink" : "file",
    key,
    size: version.size,
    mode: version.mode,
    target: version.target,
    mtimeMs: version.mtime_ms,
  };
}

/** What a folder, or a path new to the remote, shows of a remote version. */
const NOTHING_SHOWN = { key: undefined, size: 0, mode: 0, target: undefined } as const;

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
 * Builds the tree of the paths under `prefix` ("" for the whole namespace) from the newest
 * head of each, in path order (a path before those below it), with the mount's own unpushed
 * changes (`local`, by path below the prefix) on top.
 * A path that would need a file as a folder (a remote that holds both `a` and `a/b`) keeps the
 * file and hides what lies below it.
 *
 * @example
 * ```ts
 * const tree = buildMountTree(foldedListing(state, ns, "docs"), "docs", newInodeTable(), new Map());
 * ```
 */
export function buildMountTree(
  heads: Iterable<FoldedListing>,
  prefix: string,
  inodes: InodeTable,
  local: ReadonlyMap<string, LocalChange>,
): MountTree {
  const root = newNode(ROOT_INO, "", { ...NOTHING_SHOWN, kind: "dir", mtimeMs: 0 }, {
    children: new Map(),
  });
  const tree: MountTree = { nodes: new Map([[ROOT_INO, root]]), inodes, files: 0, bytes: 0 };
  for (const head of heads) {
    if (head.kind === "deleted") continue;
    const rel = prefix === ""
      ? head.path
      : head.path.startsWith(prefix + "/")
      ? head.path.slice(prefix.length + 1)
      : undefined;
    if (!rel) continue;
    const { key, kind, size, mode, mtimeMs, target } = head;
    const node = placeNode(tree, rel, { kind, key, size, mode, target, mtimeMs });
    if (node && kind === "file") {
      tree.files++;
      tree.bytes += size;
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
  const base = change.base ? shownOf(change.base.key, change.base.version) : NOTHING_SHOWN;
  placeNode(tree, rel, { ...base, kind: change.kind, mtimeMs: change.mtimeMs }, {
    local: change,
    children: change.kind !== "dir" ? undefined : attached ? known.children : new Map(),
    replace: true,
  });
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
  if (attached && showsRemoteFile(known)) {
    tree.files--;
    tree.bytes -= known.size;
  }
  const head = heads.length > 0 ? newestHead(heads) : undefined;
  const version = head?.version;
  if (!head || !version || version.kind === "deleted") {
    if (attached) parent!.children!.delete(baseName(rel));
    return;
  }
  const placed = placeNode(tree, rel, shownOf(head.key, version), { replace: true });
  if (placed && version.kind === "file") {
    tree.files++;
    tree.bytes += version.size;
  }
}

/** Whether `node`'s remote version (shown, or the base of its change) is a file. */
function showsRemoteFile(node: MountNode): boolean {
  // A link's version always has a target; a file's never.
  return node.key !== undefined && node.target === undefined;
}

/**
 * Puts a node at `rel`, making the folders above it; returns it, or undefined when a file
 * stands where a folder is needed or (unless `replace`) the name is taken.
 */
function placeNode(
  tree: MountTree,
  rel: string,
  shown: Shown,
  { local, children, replace = false }: Partial<Pick<MountNode, "local" | "children">> & {
    replace?: boolean;
  } = {},
): MountNode | undefined {
  const inoOf = (path: string) => {
    let ino = tree.inodes.byPath.get(path);
    if (ino === undefined) tree.inodes.byPath.set(path, ino = tree.inodes.next++);
    return ino;
  };
  const names = rel.split("/");
  let dir = tree.nodes.get(ROOT_INO)!;
  for (const [depth, name] of names.slice(0, -1).entries()) {
    dir.mtimeMs = Math.max(dir.mtimeMs, shown.mtimeMs);
    const known = tree.nodes.get(dir.children!.get(name) ?? 0);
    if (known && known.kind !== "dir") return undefined;
    if (known) dir = known;
    else {
      const path = names.slice(0, depth + 1).join("/");
      const made = newNode(inoOf(path), path, {
        ...NOTHING_SHOWN,
        kind: "dir",
        mtimeMs: shown.mtimeMs,
      }, {
        children: new Map(),
      });
      tree.nodes.set(made.ino, made);
      dir.children!.set(name, made.ino);
      dir = made;
    }
  }
  const name = names.at(-1)!;
  if (!replace && dir.children!.has(name)) return undefined;
  dir.mtimeMs = Math.max(dir.mtimeMs, shown.mtimeMs);
  const placed = newNode(inoOf(rel), rel, shown, { local, children });
  tree.nodes.set(placed.ino, placed);
  dir.children!.set(name, placed.ino);
  return placed;
}

/** Every node is made here, with its fields in one order: V8 then shares one shape for all. */
function newNode(
  ino: number,
  rel: string,
  shown: Shown,
  { local, children }: Partial<Pick<MountNode, "local" | "children">>,
): MountNode {
  return {
    ino,
    rel,
    kind: shown.kind,
    key: shown.key,
    size: shown.size,
    mode: shown.mode,
    target: shown.target,
    local,
    children,
    mtimeMs: shown.mtimeMs,
  };
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
