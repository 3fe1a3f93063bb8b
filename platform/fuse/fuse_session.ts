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
  decodeReadIn,
  decodeReleaseIn,
  encodeAttrOut,
  encodeDirents,
  encodeEntryOut,
  encodeInitOut,
  encodeInvalInode,
  encodeOpenOut,
  encodeReply,
  encodeStatfsOut,
  ERRNO,
  FOPEN_KEEP_CACHE,
  IN_HEADER_BYTES,
  type InHeader,
  Opcode,
} from "./fuse_abi.ts";
import type { FuseOperations, FuseResult } from "./fuse_operations.ts";
import { fuseLibc } from "./fuse_libc.ts";
import { attachFuse, detachFuse, isMountPoint } from "./fuse_mount.ts";

/** Options for {@linkcode serveFuse}. */
export interface FuseSessionOptions {
  /** Refuse writes in the kernel (EROFS) as well as in the handlers. */
  readOnly: boolean;
  /** The source column of the mount table (`tcfs:<remote>`). */
  source: string;
  /** How long the kernel caches names and attributes. */
  cacheTimes?: CacheTimes;
  /** Where a failed handler is reported. */
  log?: (message: string) => void;
}

/** A live mount. */
export interface FuseSession {
  readonly mountpoint: string;
  /** Settles once the kernel closed the session: unmounted, by us or anyone else. */
  readonly closed: Promise<void>;
  /** Tells the kernel that a file's content changed: it drops its cached pages. */
  invalidate(ino: number): void;
  /** Unmounts (lazily, so open files do not keep this process alive) and waits for the end. */
  unmount(): Promise<void>;
}

const MAX_WRITE = 1024 * 1024;
/** The kernel refuses a read buffer smaller than a maximal request. */
const BUFFER_BYTES = MAX_WRITE + 64 * 1024;
const MAX_READAHEAD = 128 * 1024;
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
  const times = options.cacheTimes ?? { entrySeconds: 1, attrSeconds: 1 };
  const uid = Deno.uid() ?? 0;
  const gid = Deno.gid() ?? 0;
  let initialized: (() => void) | undefined;
  let initFailed: ((err: Error) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    initialized = resolve;
    initFailed = reject;
  });

  const send = (reply: Uint8Array<ArrayBuffer>) => {
    // A reply to a request interrupted meanwhile is refused (ENOENT); nothing waits for it.
    libc.write(fd, reply, BigInt(reply.length));
  };
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
              encodeInitOut(view, { maxReadahead: MAX_READAHEAD, maxWrite: MAX_WRITE }),
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
        const name = new TextDecoder().decode(request.subarray(IN_HEADER_BYTES, header.len - 1));
        return answer(header, ops.lookup(nodeid, name), (a) => encodeEntryOut(a, times, uid, gid));
      }
      case Opcode.GETATTR:
        return answer(
          header,
          ops.getattr(nodeid),
          (a) => encodeAttrOut(a, times.attrSeconds, uid, gid),
        );
      case Opcode.READLINK:
        return answer(header, ops.readlink(nodeid), (t) => new TextEncoder().encode(t));
      case Opcode.OPEN: {
        const accessMode = view.getUint32(IN_HEADER_BYTES, true) & 3;
        if (options.readOnly && accessMode !== 0) return send(encodeReply(unique, ERRNO.EROFS));
        return answer(header, ops.open(nodeid), (h) => encodeOpenOut(h, FOPEN_KEEP_CACHE));
      }
      case Opcode.READ: {
        const { handle, offset, size } = decodeReadIn(view);
        return answer(header, await ops.read(nodeid, handle, offset, size), (bytes) => bytes);
      }
      case Opcode.RELEASE:
        ops.release(decodeReleaseIn(view));
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
      case Opcode.FLUSH:
        return send(encodeReply(unique, 0));
      case Opcode.STATFS:
        return send(encodeReply(unique, 0, encodeStatfsOut(ops.statfs())));
      default:
        return send(encodeReply(unique, ERRNO.ENOSYS));
    }
  }

  async function loop(): Promise<void> {
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
    libc.close(fd);
  }

  const closed = loop();
  closed.finally(() => initFailed?.(new Error("the mount ended before the kernel's INIT")));
  await ready;
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
