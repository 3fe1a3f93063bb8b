/**
 * What a file system served over FUSE answers (`fuse_session.ts` speaks the kernel protocol and
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
  | "EEXIST";

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

/** The operations a mounted tree serves; unknown operations are answered ENOSYS. */
export interface FuseOperations {
  lookup(parent: number, name: string): FuseResult<FuseAttr>;
  getattr(ino: number): FuseResult<FuseAttr>;
  readdir(ino: number): FuseResult<FuseDirEntry[]>;
  readlink(ino: number): FuseResult<string>;
  /** Opens for reading; returns a handle passed to `read` and `release`. */
  open(ino: number): FuseResult<number>;
  read(ino: number, handle: number, offset: number, size: number): Promise<FuseResult<Uint8Array>>;
  release(handle: number): void;
  /** Total and free bytes shown by `df`. */
  statfs(): { totalBytes: number; freeBytes: number; files: number };
}
