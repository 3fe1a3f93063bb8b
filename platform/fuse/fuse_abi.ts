/**
 * The FUSE kernel protocol's message layouts (Linux `include/uapi/linux/fuse.h`, protocol 7.x),
 * little-endian as on every machine tcfs runs on: request headers in, replies out.
 *
 * @module
 */

import type { FuseAttr, FuseDirEntry, FuseErrno } from "../../core/mount/fuse_operations.ts";

/** Request opcodes tcfs answers (others get ENOSYS). */
export const Opcode = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  INTERRUPT: 36,
  CREATE: 35,
  DESTROY: 38,
  BATCH_FORGET: 42,
  RENAME2: 45,
} as const;

/** Linux errno numbers of {@linkcode FuseErrno}, and ENOSYS. */
export const ERRNO: Record<FuseErrno | "ENOSYS", number> = {
  ENOENT: 2,
  EIO: 5,
  EACCES: 13,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EROFS: 30,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  EXDEV: 18,
  ENOTSUP: 95,
};

/** `fuse_in_header`: 40 bytes before every request's body. */
export interface InHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
}

/** Size of `fuse_in_header`. */
export const IN_HEADER_BYTES = 40;
const OUT_HEADER_BYTES = 16;

/**
 * Reads a request's header.
 *
 * @example
 * ```ts
 * const header = decodeInHeader(new DataView(buffer.buffer, 0, n));
 * ```
 */
export function decodeInHeader(view: DataView): InHeader {
  return {
    len: view.getUint32(0, true),
    opcode: view.getUint32(4, true),
    unique: view.getBigUint64(8, true),
    nodeid: Number(view.getBigUint64(16, true)),
    uid: view.getUint32(24, true),
    gid: view.getUint32(28, true),
    pid: view.getUint32(32, true),
  };
}

/**
 * A reply: `fuse_out_header` then `body`, or the header alone with a negated errno.
 *
 * @example
 * ```ts
 * write(fd, encodeReply(header.unique, 0, encodeAttrOut(attr)));
 * ```
 */
export function encodeReply(
  unique: bigint,
  errno: number,
  body: Uint8Array = new Uint8Array(),
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(OUT_HEADER_BYTES + body.length);
  out.set(encodeOutHeader(unique, errno, body.length));
  out.set(body, OUT_HEADER_BYTES);
  return out;
}

/**
 * `fuse_out_header` alone, for a reply whose body is written beside it (writev), uncopied.
 *
 * @example
 * ```ts
 * writev(fd, [encodeOutHeader(header.unique, 0, data.length), data]);
 * ```
 */
export function encodeOutHeader(
  unique: bigint,
  errno: number,
  bodyBytes: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(OUT_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, OUT_HEADER_BYTES + bodyBytes, true);
  view.setInt32(4, -errno, true);
  view.setBigUint64(8, unique, true);
  return out;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const ATTR_BYTES = 88;

/** The file type bits of a node kind. */
function typeBits(kind: FuseAttr["kind"]): number {
  return kind === "dir" ? S_IFDIR : kind === "symlink" ? S_IFLNK : S_IFREG;
}

/** `fuse_attr`, written at `at`. */
function writeAttr(view: DataView, at: number, attr: FuseAttr, uid: number, gid: number): void {
  const seconds = BigInt(Math.floor(attr.mtimeMs / 1000));
  const nanos = Math.round((attr.mtimeMs % 1000) * 1e6);
  view.setBigUint64(at, BigInt(attr.ino), true);
  view.setBigUint64(at + 8, BigInt(attr.size), true);
  view.setBigUint64(at + 16, BigInt(Math.ceil(attr.size / 512)), true);
  for (const field of [24, 32, 40]) view.setBigUint64(at + field, seconds, true);
  for (const field of [48, 52, 56]) view.setUint32(at + field, nanos, true);
  view.setUint32(at + 60, typeBits(attr.kind) | attr.perm, true);
  view.setUint32(at + 64, attr.kind === "dir" ? 2 : 1, true);
  view.setUint32(at + 68, uid, true);
  view.setUint32(at + 72, gid, true);
  view.setUint32(at + 80, 4096, true);
}

/** How long the kernel may trust an answer before asking again. */
export interface CacheTimes {
  entrySeconds: number;
  attrSeconds: number;
}

/**
 * `fuse_entry_out`: the answer to LOOKUP.
 *
 * @example
 * ```ts
 * encodeEntryOut(attr, { entrySeconds: 1, attrSeconds: 1 }, 0, 0);
 * ```
 */
export function encodeEntryOut(attr: FuseAttr, times: CacheTimes, uid: number, gid: number) {
  const out = new Uint8Array(40 + ATTR_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(attr.ino), true);
  view.setBigUint64(16, BigInt(times.entrySeconds), true);
  view.setBigUint64(24, BigInt(times.attrSeconds), true);
  writeAttr(view, 40, attr, uid, gid);
  return out;
}

/**
 * `fuse_attr_out`: the answer to GETATTR.
 *
 * @example
 * ```ts
 * encodeAttrOut(attr, 1, 0, 0);
 * ```
 */
export function encodeAttrOut(attr: FuseAttr, attrSeconds: number, uid: number, gid: number) {
  const out = new Uint8Array(16 + ATTR_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(attrSeconds), true);
  writeAttr(view, 16, attr, uid, gid);
  return out;
}

/** `fuse_open_out` flag: keep the page cache from an earlier open (content is immutable). */
export const FOPEN_KEEP_CACHE = 2;

/**
 * `fuse_open_out`: the answer to OPEN and OPENDIR.
 *
 * @example
 * ```ts
 * encodeOpenOut(7, FOPEN_KEEP_CACHE);
 * ```
 */
export function encodeOpenOut(handle: number, flags: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(handle), true);
  view.setUint32(8, flags, true);
  return out;
}

/** `fuse_read_in`: where and how much to read (READ and READDIR). */
export function decodeReadIn(view: DataView): { handle: number; offset: number; size: number } {
  return {
    handle: Number(view.getBigUint64(IN_HEADER_BYTES, true)),
    offset: Number(view.getBigUint64(IN_HEADER_BYTES + 8, true)),
    size: view.getUint32(IN_HEADER_BYTES + 16, true),
  };
}

/** The NUL-terminated names at `at` in a request (one for LOOKUP, two for RENAME, SYMLINK). */
export function decodeNames(request: Uint8Array, at: number): string[] {
  const decoder = new TextDecoder();
  const names: string[] = [];
  while (at < request.length) {
    const end = request.indexOf(0, at);
    names.push(decoder.decode(request.subarray(at, end < 0 ? request.length : end)));
    at = end < 0 ? request.length : end + 1;
  }
  return names;
}

/** `fuse_open_in`: O_ACCMODE and O_TRUNC of the open flags. */
export function decodeOpenIn(view: DataView): { write: boolean; truncate: boolean } {
  const flags = view.getUint32(IN_HEADER_BYTES, true);
  return { write: (flags & 3) !== 0, truncate: (flags & 0o1000) !== 0 };
}

/** `fuse_write_in`: the handle, the offset, and the data after it. */
export function decodeWriteIn(
  request: Uint8Array,
  view: DataView,
): { handle: number; offset: number; data: Uint8Array } {
  const size = view.getUint32(IN_HEADER_BYTES + 16, true);
  const at = IN_HEADER_BYTES + 40;
  return {
    handle: Number(view.getBigUint64(IN_HEADER_BYTES, true)),
    offset: Number(view.getBigUint64(IN_HEADER_BYTES + 8, true)),
    data: request.subarray(at, at + size),
  };
}

/**
 * `fuse_write_out`.
 *
 * @example
 * ```ts
 * encodeWriteOut(4096);
 * ```
 */
export function encodeWriteOut(size: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setUint32(0, size, true);
  return out;
}

/** `fuse_create_in` / `fuse_mkdir_in`'s permission bits (the kernel applied the umask). */
export function decodeModeIn(view: DataView, at: number): number {
  return view.getUint32(IN_HEADER_BYTES + at, true) & 0o7777;
}

/** What a SETATTR changes, and the handle it came through (ftruncate). */
export function decodeSetattrIn(
  view: DataView,
): { perm?: number; size?: number; mtimeMs?: number; handle?: number } {
  const at = IN_HEADER_BYTES;
  const valid = view.getUint32(at, true);
  const FATTR_MODE = 1, FATTR_SIZE = 1 << 3, FATTR_MTIME = 1 << 5, FATTR_FH = 1 << 6;
  const FATTR_MTIME_NOW = 1 << 8;
  const changes: { perm?: number; size?: number; mtimeMs?: number; handle?: number } = {};
  if (valid & FATTR_MODE) changes.perm = view.getUint32(at + 68, true) & 0o7777;
  if (valid & FATTR_SIZE) changes.size = Number(view.getBigUint64(at + 16, true));
  if (valid & FATTR_MTIME_NOW) changes.mtimeMs = Date.now();
  else if (valid & FATTR_MTIME) {
    changes.mtimeMs = Number(view.getBigUint64(at + 40, true)) * 1000 +
      Math.floor(view.getUint32(at + 60, true) / 1e6);
  }
  if (valid & FATTR_FH) changes.handle = Number(view.getBigUint64(at + 8, true));
  return changes;
}

/** `fuse_release_in`'s handle. */
export function decodeReleaseIn(view: DataView): number {
  return Number(view.getBigUint64(IN_HEADER_BYTES, true));
}

/**
 * The `fuse_dirent` records of `entries` from index `offset` on, as many as fit in `size`
 * bytes; each record's `off` is the index after it, where the next READDIR resumes.
 *
 * @example
 * ```ts
 * encodeDirents(entries, 0, 4096);
 * ```
 */
export function encodeDirents(entries: FuseDirEntry[], offset: number, size: number): Uint8Array {
  const encoder = new TextEncoder();
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (let i = offset; i < entries.length; i++) {
    const name = encoder.encode(entries[i].name);
    const record = 24 + Math.ceil(name.length / 8) * 8;
    if (at + record > size) break;
    view.setBigUint64(at, BigInt(entries[i].ino), true);
    view.setBigUint64(at + 8, BigInt(i + 1), true);
    view.setUint32(at + 16, name.length, true);
    view.setUint32(at + 20, typeBits(entries[i].kind) >> 12, true);
    out.set(name, at + 24);
    at += record;
  }
  return out.subarray(0, at);
}

/**
 * `fuse_statfs_out`.
 *
 * @example
 * ```ts
 * encodeStatfsOut({ totalBytes: 1 << 30, freeBytes: 1 << 29, files: 10 });
 * ```
 */
export function encodeStatfsOut(
  stats: { totalBytes: number; freeBytes: number; files: number },
): Uint8Array {
  const blockSize = 4096;
  const out = new Uint8Array(80);
  const view = new DataView(out.buffer);
  const free = BigInt(Math.floor(stats.freeBytes / blockSize));
  view.setBigUint64(0, BigInt(Math.ceil(stats.totalBytes / blockSize)), true);
  view.setBigUint64(8, free, true);
  view.setBigUint64(16, free, true);
  view.setBigUint64(24, BigInt(stats.files), true);
  view.setUint32(40, blockSize, true);
  view.setUint32(44, 255, true);
  view.setUint32(48, blockSize, true);
  return out;
}

/**
 * A notification (unique 0, the code where a reply has its error) telling the kernel to drop its
 * cached pages and attributes of `ino`: `fuse_notify_inval_inode_out`, the whole file.
 *
 * @example
 * ```ts
 * write(fd, encodeInvalInode(42));
 * ```
 */
export function encodeInvalInode(ino: number): Uint8Array<ArrayBuffer> {
  const FUSE_NOTIFY_INVAL_INODE = 2;
  const body = new Uint8Array(24);
  const view = new DataView(body.buffer);
  view.setBigUint64(0, BigInt(ino), true);
  view.setBigInt64(8, 0n, true);
  view.setBigInt64(16, 0n, true);
  // The header's error field carries the (positive) notification code.
  return encodeReply(0n, -FUSE_NOTIFY_INVAL_INODE, body);
}

/** INIT flags tcfs asks for, each granted only when the kernel offers it. */
const FUSE_ASYNC_READ = 1 << 0;
const FUSE_ATOMIC_O_TRUNC = 1 << 3;
const FUSE_BIG_WRITES = 1 << 5;
const FUSE_PARALLEL_DIROPS = 1 << 18;
const FUSE_MAX_PAGES = 1 << 22;
const FUSE_CACHE_SYMLINKS = 1 << 23;
const WANTED_FLAGS = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
  FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES |
  FUSE_CACHE_SYMLINKS;

/** The protocol version tcfs speaks: 7.31 (Linux 5.4) has everything it uses. */
const MINOR = 31;

/**
 * The answer to INIT, given the kernel's `fuse_init_in`; throws when the kernel's protocol is
 * older than 7.31.
 *
 * @example
 * ```ts
 * encodeInitOut(view, { maxReadahead: 128 << 10, maxWrite: 1 << 20 });
 * ```
 */
export function encodeInitOut(
  view: DataView,
  limits: { maxReadahead: number; maxWrite: number },
): Uint8Array {
  const major = view.getUint32(IN_HEADER_BYTES, true);
  const minor = view.getUint32(IN_HEADER_BYTES + 4, true);
  const kernelReadahead = view.getUint32(IN_HEADER_BYTES + 8, true);
  const offered = view.getUint32(IN_HEADER_BYTES + 12, true);
  if (major !== 7 || minor < MINOR) {
    throw new Error(`the kernel speaks FUSE ${major}.${minor}; tcfs needs 7.${MINOR} or newer`);
  }
  const out = new Uint8Array(64);
  const reply = new DataView(out.buffer);
  reply.setUint32(0, 7, true);
  reply.setUint32(4, MINOR, true);
  reply.setUint32(8, Math.min(kernelReadahead, limits.maxReadahead), true);
  reply.setUint32(12, offered & WANTED_FLAGS, true);
  reply.setUint16(16, 64, true); // max_background
  reply.setUint16(18, 48, true); // congestion_threshold
  reply.setUint32(20, limits.maxWrite, true);
  reply.setUint32(24, 1, true); // time_gran: nanoseconds
  reply.setUint16(28, Math.ceil(limits.maxWrite / 4096), true); // max_pages
  return out;
}
