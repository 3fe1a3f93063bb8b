/**
 * A FUSE mount served from this process: the kernel protocol spoken on `/dev/fuse` directly
 * (docs/MOUNT.md says why not libfuse). Requests are read one at a time on Deno's blocking
 * pool and answered as their handlers finish, so slow reads never hold up `stat`s.
 *
 * @module
 */

import {
  type CacheTimes,
  decodeInHeader,
  decodeModeIn,
  decodeNames,
  decodeOpenIn,
  decodeReadIn,
  decodeReleaseIn,
  decodeSetattrIn,
  decodeWriteIn,
  encodeAttrOut,
  encodeDirents,
  encodeEntryOut,
  encodeInitOut,
  encodeInvalInode,
  encodeOpenOut,
  encodeOutHeader,
  encodeReply,
  encodeStatfsOut,
  encodeWriteOut,
  ERRNO,
  FOPEN_KEEP_CACHE,
  IN_HEADER_BYTES,
  type InHeader,
  Opcode,
} from "./fuse_abi.ts";
import type { FuseAttr, FuseOperations, FuseResult } from "../../core/mount/fuse_operations.ts";
import type { FuseAttachOptions, FuseSession } from "../../core/mount/fuse_attach.ts";
import { concatBytes } from "../../core/encoding/concat_bytes.ts";
import { fuseLibc, returnFreedMemory, writeKernelFile, writeParts } from "./fuse_libc.ts";
import { attachFuse, detachFuse, isMountPoint, mountDevice } from "./fuse_mount.ts";

/** Options for {@linkcode serveFuse}. */
export interface FuseSessionOptions extends FuseAttachOptions {
  /** How long the kernel caches names and attributes. */
  cacheTimes?: CacheTimes;
}

/** Requests that change the tree: refused with EROFS on a read-only mount. */
const writeOps = new Set<number>([
  Opcode.WRITE,
  Opcode.CREATE,
  Opcode.SETATTR,
  Opcode.MKDIR,
  Opcode.UNLINK,
  Opcode.RMDIR,
  Opcode.RENAME,
  Opcode.RENAME2,
  Opcode.SYMLINK,
]);

/** The largest request (a write's data, a read's size): 256 pages, the kernel's limit. */
const MAX_WRITE = 1024 * 1024;
/** The kernel refuses a read buffer smaller than a maximal request. */
const BUFFER_BYTES = MAX_WRITE + 64 * 1024;
/**
 * The kernel's read-ahead on the mount, in KiB. INIT can only lower the kernel's default (128
 * KiB, so a sequential reader's requests are 128 KiB each); as root it is raised through
 * `/sys/class/bdi/<device>/read_ahead_kb` once INIT is done, so sequential reads come as 1 MiB
 * requests, several in flight: one thread hop and one handler run per MiB instead of per 128
 * KiB. At 1024 a single 1 MiB read at a random offset came as two requests in sequence, enough
 * to start the mount's own read-ahead (12 MB fetched instead of at most 2 MiB; tested), so 4 MiB,
 * though it holds 30–50 MB more at the peak (docs/BENCHMARKS.md).
 */
const READ_AHEAD_KB = 4096;
/** Reads of the device waiting at once (each on a thread of Deno's blocking pool). */
const READERS = 4;
/** Consecutive failed reads of the device, while still mounted, before giving up. */
const MAX_READ_FAILURES = 100;

/**
 * Mounts `ops` at `mountpoint` and serves it until it is unmounted. Resolves once the kernel
 * finished INIT, so the tree is usable when it returns.
 *
 * @example
 * ```ts
 * const session = await serveFuse("/mnt/fleet", ops, { readOnly: true, source: "tcfs:tcfs/default" });
 * await session.closed;
 * ```
 */
export async function serveFuse(
  mountpoint: string,
  ops: FuseOperations,
  options: FuseSessionOptions,
): Promise<FuseSession> {
  const fd = await attachFuse(mountpoint, options);
  const libc = fuseLibc();
  // A mount reads files of any size through buffers of up to 4 MiB: its peak memory is bounded
  // only if freed buffers leave the process.
  returnFreedMemory();
  const times = options.cacheTimes ?? { entrySeconds: 1, attrSeconds: 1 };
  const uid = Deno.uid() ?? 0;
  const gid = Deno.gid() ?? 0;
  let initialized: (() => void) | undefined;
  let initFailed: ((err: Error) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    initialized = resolve;
    initFailed = reject;
  });

  /** Reply buffers of finished reads; as many as reads were ever answered at once. */
  const replyBuffers: Uint8Array[] = [];
  const send = (reply: Uint8Array<ArrayBuffer>) => {
    // A reply to a request interrupted meanwhile is refused (ENOENT); nothing waits for it.
    libc.write(fd, reply, BigInt(reply.length));
  };
  const entry = (attr: FuseAttr) => encodeEntryOut(attr, times, uid, gid);
  const attrOut = (attr: FuseAttr) => encodeAttrOut(attr, times.attrSeconds, uid, gid);
  const empty = () => new Uint8Array();
  // A version's content never changes, so the page cache outlives a close; a file changed by
  // another device is dropped from it by `invalidate`.
  const openFlags = FOPEN_KEEP_CACHE;
  const answer = <T>(
    header: InHeader,
    result: FuseResult<T>,
    encode: (value: T) => Uint8Array,
  ) => {
    if (typeof result === "object" && result !== null && "errno" in result) {
      send(encodeReply(header.unique, ERRNO[result.errno]));
    } else send(encodeReply(header.unique, 0, encode(result as T)));
  };

  async function handle(request: Uint8Array<ArrayBuffer>): Promise<void> {
    const view = new DataView(request.buffer);
    const header = decodeInHeader(view);
    const { unique, nodeid } = header;
    switch (header.opcode) {
      case Opcode.INIT:
        try {
          send(
            encodeReply(
              unique,
              0,
              encodeInitOut(view, { maxReadahead: READ_AHEAD_KB * 1024, maxWrite: MAX_WRITE }),
            ),
          );
          initialized?.();
        } catch (err) {
          send(encodeReply(unique, ERRNO.EINVAL));
          initFailed?.(err as Error);
        }
        return;
      case Opcode.FORGET:
      case Opcode.BATCH_FORGET:
      case Opcode.INTERRUPT:
      case Opcode.DESTROY:
        return; // no reply expected
      case Opcode.LOOKUP: {
        const [name] = decodeNames(request, IN_HEADER_BYTES);
        return answer(header, ops.lookup(nodeid, name), entry);
      }
      case Opcode.GETATTR:
        return answer(header, ops.getattr(nodeid), attrOut);
      case Opcode.READLINK:
        return answer(header, ops.readlink(nodeid), (t) => new TextEncoder().encode(t));
      case Opcode.OPEN: {
        const mode = decodeOpenIn(view);
        if (options.readOnly && mode.write) return send(encodeReply(unique, ERRNO.EROFS));
        return answer(header, await ops.open(nodeid, mode), (h) => encodeOpenOut(h, openFlags));
      }
      case Opcode.READ: {
        const { handle, offset, size } = decodeReadIn(view);
        // A reply buffer used again and again: no new 1 MiB per request for V8 to free late.
        const into = replyBuffers.pop() ?? new Uint8Array(MAX_WRITE);
        const result = await ops.read(nodeid, handle, offset, size, into);
        // A failed read (a timeout) may still be filling its buffer: that one is not used again.
        if ("errno" in result) return send(encodeReply(unique, ERRNO[result.errno]));
        // The data goes out behind its header as it is: no copy of up to 1 MiB per request.
        writeParts(fd, [encodeOutHeader(unique, 0, result.length), result]);
        replyBuffers.push(into);
        return;
      }
      case Opcode.RELEASE:
        await ops.release(decodeReleaseIn(view));
        return send(encodeReply(unique, 0));
      case Opcode.OPENDIR:
        return send(encodeReply(unique, 0, encodeOpenOut(0, 0)));
      case Opcode.READDIR: {
        const { offset, size } = decodeReadIn(view);
        return answer(
          header,
          ops.readdir(nodeid),
          (entries) => encodeDirents(entries, offset, size),
        );
      }
      case Opcode.RELEASEDIR:
        return send(encodeReply(unique, 0));
      case Opcode.FLUSH:
      case Opcode.FSYNC:
        // Both start with the handle, as fuse_release_in does.
        return answer(header, await ops.flush(decodeReleaseIn(view)), empty);
      case Opcode.STATFS:
        return send(encodeReply(unique, 0, encodeStatfsOut(ops.statfs())));
    }
    if (options.readOnly && writeOps.has(header.opcode)) {
      return send(encodeReply(unique, ERRNO.EROFS));
    }
    switch (header.opcode) {
      case Opcode.WRITE: {
        const { handle, offset, data } = decodeWriteIn(request, view);
        return answer(header, await ops.write(handle, offset, data), encodeWriteOut);
      }
      case Opcode.CREATE: {
        const [name] = decodeNames(request, IN_HEADER_BYTES + 16);
        return answer(
          header,
          await ops.create(nodeid, name, decodeModeIn(view, 4)),
          ([attr, handle]) => concatBytes([entry(attr), encodeOpenOut(handle, openFlags)]),
        );
      }
      case Opcode.SETATTR: {
        const { handle, ...changes } = decodeSetattrIn(view);
        return answer(header, await ops.setattr(nodeid, changes, handle), attrOut);
      }
      case Opcode.MKDIR: {
        const [name] = decodeNames(request, IN_HEADER_BYTES + 8);
        return answer(header, ops.mkdir(nodeid, name, decodeModeIn(view, 0)), entry);
      }
      case Opcode.UNLINK:
        return answer(
          header,
          await ops.unlink(nodeid, decodeNames(request, IN_HEADER_BYTES)[0]),
          empty,
        );
      case Opcode.RMDIR:
        return answer(header, ops.rmdir(nodeid, decodeNames(request, IN_HEADER_BYTES)[0]), empty);
      case Opcode.RENAME:
      case Opcode.RENAME2: {
        const to = Number(view.getBigUint64(IN_HEADER_BYTES, true));
        const rename2 = header.opcode === Opcode.RENAME2;
        // RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT are not supported.
        if (rename2 && view.getUint32(IN_HEADER_BYTES + 8, true) !== 0) {
          return send(encodeReply(unique, ERRNO.EINVAL));
        }
        const [name, toName] = decodeNames(request, IN_HEADER_BYTES + (rename2 ? 16 : 8));
        return answer(header, await ops.rename(nodeid, name, to, toName), empty);
      }
      case Opcode.SYMLINK: {
        const [name, target] = decodeNames(request, IN_HEADER_BYTES);
        return answer(header, await ops.symlink(nodeid, name, target), entry);
      }
      default:
        return send(encodeReply(unique, ERRNO.ENOSYS));
    }
  }

  /** One reader of the device; several wait at once, so a request never waits for a thread. */
  async function readRequests(): Promise<void> {
    const buffer = new Uint8Array(BUFFER_BYTES);
    let failures = 0;
    while (true) {
      const n = Number(await libc.read(fd, buffer, BigInt(buffer.length)));
      if (n <= 0) {
        // ENODEV once unmounted; ENOENT or EINTR for a request withdrawn before it was read.
        if (n === 0 || ++failures > MAX_READ_FAILURES || !(await isMountPoint(mountpoint))) break;
        continue;
      }
      failures = 0;
      const request = buffer.slice(0, n);
      handle(request).catch((err) => {
        options.log?.(`FUSE request failed: ${err instanceof Error ? err.message : err}`);
        send(encodeReply(decodeInHeader(new DataView(request.buffer)).unique, ERRNO.EIO));
      });
    }
  }

  const closed = Promise.all(Array.from({ length: READERS }, readRequests)).then(() => {
    libc.close(fd);
  });
  closed.finally(() => initFailed?.(new Error("the mount ended before the kernel's INIT")));
  await ready;
  await raiseReadAhead(mountpoint, options.log);
  return {
    mountpoint,
    closed,
    invalidate(ino) {
      // An inode the kernel no longer knows is refused (ENOENT): nothing was cached.
      send(encodeInvalInode(ino));
    },
    async unmount() {
      await detachFuse(mountpoint, { lazy: true });
      await closed;
    },
  };
}

/**
 * Raises the mount's read-ahead to {@linkcode READ_AHEAD_KB} (root only: a regular user's
 * mount keeps the kernel's 128 KiB, and reads sequentially at about half the speed).
 */
async function raiseReadAhead(mountpoint: string, log?: (message: string) => void) {
  if (Deno.uid() !== 0) return;
  const device = await mountDevice(mountpoint);
  const setting = `/sys/class/bdi/${device}/read_ahead_kb`;
  if (!device || !writeKernelFile(setting, String(READ_AHEAD_KB))) {
    log?.(`could not raise the read-ahead (${setting}): sequential reads stay slower`);
  }
}
