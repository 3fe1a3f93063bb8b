/**
 * What a file system served over FUSE answers (platform/fuse/fuse_session.ts speaks the kernel protocol and
 * calls these). Types only, so that the engine (`core/mount/`) implements them without
 * importing platform code. Node 1 is the root. Errors are errno names.
 *
 * @module
 */

/** The errors a handler may answer with. */
export type FuseErrno =
  | "ENOENT"
  | "EIO"
  | "EROFS"
  | "ENOTDIR"
  | "EISDIR"
  | "EINVAL"
  | "EACCES"
  | "ENOTEMPTY"
  | "EEXIST"
  | "EXDEV"
  | "ENOTSUP";

/** A node's attributes. */
export interface FuseAttr {
  ino: number;
  kind: "dir" | "file" | "symlink";
  size: number;
  /** Permission bits (0o7777 at most). */
  perm: number;
  mtimeMs: number;
}

/** One directory entry. */
export interface FuseDirEntry {
  name: string;
  ino: number;
  kind: FuseAttr["kind"];
}

/** An answer or an errno. */
export type FuseResult<T> = T | { errno: FuseErrno };

/** Attribute changes (SETATTR); absent fields stay. */
export interface FuseAttrChanges {
  perm?: number;
  size?: number;
  mtimeMs?: number;
}

/** How a file is opened. */
export interface FuseOpenMode {
  write: boolean;
  truncate: boolean;
}

/** The operations a mounted tree serves; unknown operations are answered ENOSYS. */
export interface FuseOperations {
  lookup(parent: number, name: string): FuseResult<FuseAttr>;
  getattr(ino: number): FuseResult<FuseAttr>;
  readdir(ino: number): FuseResult<FuseDirEntry[]>;
  readlink(ino: number): FuseResult<string>;
  /** Opens a file; returns a handle passed to `read`, `write`, `flush` and `release`. */
  open(ino: number, mode: FuseOpenMode): Promise<FuseResult<number>>;
  /**
   * Reads `size` bytes at `offset`; the bytes may be put in `into` (at least `size` bytes, the
   * caller's reply buffer), and the result is then a view of it.
   */
  read(
    ino: number,
    handle: number,
    offset: number,
    size: number,
    into?: Uint8Array,
  ): Promise<FuseResult<Uint8Array>>;
  write(handle: number, offset: number, data: Uint8Array): Promise<FuseResult<number>>;
  /** A close(2) of a descriptor of the handle: what was written is saved now. */
  flush(handle: number): Promise<FuseResult<void>>;
  release(handle: number): Promise<void>;
  create(parent: number, name: string, perm: number): Promise<FuseResult<[FuseAttr, number]>>;
  setattr(ino: number, changes: FuseAttrChanges, handle?: number): Promise<FuseResult<FuseAttr>>;
  mkdir(parent: number, name: string, perm: number): FuseResult<FuseAttr>;
  unlink(parent: number, name: string): Promise<FuseResult<void>>;
  rmdir(parent: number, name: string): FuseResult<void>;
  rename(parent: number, name: string, to: number, toName: string): Promise<FuseResult<void>>;
  symlink(parent: number, name: string, target: string): Promise<FuseResult<FuseAttr>>;
  /** Total and free bytes shown by `df`. */
  statfs(): { totalBytes: number; freeBytes: number; files: number };
}
