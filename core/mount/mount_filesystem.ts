/**
 * The mounted tree's answers to the kernel: names and attributes from the heads
 * (`mount_tree.ts`), content by range (`range_reader.ts`). A reader that keeps reading on
 * from where it stopped gets read-ahead: the chunks of the next {@linkcode READ_AHEAD_BYTES}
 * are fetched while it consumes these.
 *
 * @module
 */

import type {
  FuseAttr,
  FuseDirEntry,
  FuseOperations,
  FuseResult,
} from "../../platform/fuse/fuse_operations.ts";
import type { MountNode, MountTree } from "./mount_tree.ts";
import type { RangeReader } from "./range_reader.ts";
import { describeError } from "../errors.ts";

/** How far ahead of a sequential reader chunks are fetched. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/**
 * Bytes read in sequence before read-ahead starts: a single large read (the kernel splits it
 * into 128 KiB requests) fetches only what it asked for.
 */
const SEQUENTIAL_THRESHOLD = 2 * 1024 * 1024;

/** What {@linkcode createMountFilesystem} needs. */
export interface MountFilesystemOptions {
  /** The current tree; read on every request, so swapping it shows remote changes. */
  tree: () => MountTree;
  reader: RangeReader;
  /** Reports a read that failed (the reader sees EIO). */
  log: (message: string) => void;
  /** The bound `df` shows as the file system's size. */
  cacheBytes: () => { used: number; max: number };
}

interface OpenFile {
  node: MountNode;
  /** Where the last read ended, and how many bytes were read in sequence up to there. */
  end: number;
  run: number;
}

/**
 * The FUSE operations of a read-only mount.
 *
 * @example
 * ```ts
 * const ops = createMountFilesystem({ tree: () => tree, reader, log: console.error, cacheBytes });
 * await serveFuse(mountpoint, ops, { readOnly: true, source: "tcfs:tcfs/default" });
 * ```
 */
export function createMountFilesystem(options: MountFilesystemOptions): FuseOperations {
  const open = new Map<number, OpenFile>();
  let nextHandle = 1;
  const node = (ino: number) => options.tree().nodes.get(ino);
  const attrOf = (n: MountNode): FuseAttr => ({
    ino: n.ino,
    kind: n.kind,
    size: n.kind === "dir"
      ? 4096
      : n.kind === "symlink"
      ? new TextEncoder().encode(n.version!.target!).length
      : n.version!.size,
    perm: n.kind === "dir" ? 0o755 : n.kind === "symlink" ? 0o777 : n.version!.mode & 0o777,
    mtimeMs: n.mtimeMs,
  });
  const ENOENT = { errno: "ENOENT" } as const;

  return {
    lookup(parent, name): FuseResult<FuseAttr> {
      const dir = node(parent);
      if (!dir?.children) return dir ? { errno: "ENOTDIR" } : ENOENT;
      const child = node(dir.children.get(name) ?? 0);
      return child ? attrOf(child) : ENOENT;
    },
    getattr(ino) {
      const n = node(ino);
      return n ? attrOf(n) : ENOENT;
    },
    readdir(ino): FuseResult<FuseDirEntry[]> {
      const dir = node(ino);
      if (!dir?.children) return dir ? { errno: "ENOTDIR" } : ENOENT;
      const entries: FuseDirEntry[] = [];
      for (const [name, child] of dir.children) {
        entries.push({ name, ino: child, kind: node(child)!.kind });
      }
      return entries;
    },
    readlink(ino) {
      const n = node(ino);
      return n?.kind === "symlink" ? n.version!.target! : n ? { errno: "EINVAL" } : ENOENT;
    },
    open(ino) {
      const n = node(ino);
      if (!n) return ENOENT;
      if (n.kind === "dir") return { errno: "EISDIR" };
      const handle = nextHandle++;
      open.set(handle, { node: n, end: 0, run: 0 });
      return handle;
    },
    async read(_ino, handle, offset, size): Promise<FuseResult<Uint8Array>> {
      const file = open.get(handle);
      if (!file?.node.version) return { errno: "EINVAL" };
      const version = file.node.version;
      file.run = offset === file.end ? file.run + size : size;
      file.end = offset + size;
      if (file.run >= SEQUENTIAL_THRESHOLD) {
        options.reader.prefetch(version, file.end, READ_AHEAD_BYTES);
      }
      try {
        return await options.reader.read(version, offset, size);
      } catch (err) {
        options.log(`read of ${version.path} at ${offset} failed: ${describeError(err)}`);
        return { errno: "EIO" };
      }
    },
    release(handle) {
      open.delete(handle);
    },
    statfs() {
      const { used, max } = options.cacheBytes();
      return {
        totalBytes: Math.max(options.tree().bytes, max),
        freeBytes: Math.max(0, max - used),
        files: options.tree().nodes.size,
      };
    },
  };
}
