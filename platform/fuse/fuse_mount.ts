/**
 * Attaching a FUSE session to a directory and detaching it. As root, `/dev/fuse` is opened
 * here and mount(2) is called through FFI; a regular user cannot mount, so `fusermount3`
 * (setuid, from the fuse3 package) mounts and hands the open device back over a Unix socket
 * (SCM_RIGHTS), as libfuse does.
 *
 * @module
 */

import { TcfsError } from "../../core/errors.ts";
import {
  cString,
  fuseLibc,
  lastErrno,
  MNT_DETACH,
  MS_NODEV,
  MS_NOSUID,
  MS_RDONLY,
  O_CLOEXEC,
  O_RDWR,
  pathExists,
  readKernelFile,
} from "./fuse_libc.ts";

const FUSE_DEVICE = "/dev/fuse";
const FUSERMOUNT = "fusermount3";
const INSTALL_HINT = "install fuse3 (Debian/Ubuntu: apt-get install fuse3), or mount as root";

/**
 * Mounts a FUSE file system at `mountpoint` and returns the open `/dev/fuse` descriptor the
 * kernel will send its requests to.
 *
 * @example
 * ```ts
 * const fd = await attachFuse("/mnt/fleet", { readOnly: true, source: "tcfs:tcfs/default" });
 * ```
 */
export async function attachFuse(
  mountpoint: string,
  options: { readOnly: boolean; source: string },
): Promise<number> {
  if (!pathExists(FUSE_DEVICE)) {
    throw new TcfsError(`${FUSE_DEVICE} is missing: this kernel has no FUSE`, {
      hint: "load the module (modprobe fuse); in a container, pass --device /dev/fuse",
    });
  }
  const dir = await Deno.stat(mountpoint).catch(() => undefined);
  if (!dir?.isDirectory) {
    throw new TcfsError(`${mountpoint} is not a directory`, {
      kind: "usage",
      hint: "create an empty directory to mount on",
    });
  }
  if (await isMountPoint(mountpoint)) {
    throw new TcfsError(`${mountpoint} is already a mount point`, {
      kind: "usage",
      hint: `unmount it first: tcfs unmount ${mountpoint}`,
    });
  }
  return Deno.uid() === 0
    ? mountAsRoot(mountpoint, options)
    : await mountWithFusermount(mountpoint, options);
}

function mountAsRoot(mountpoint: string, options: { readOnly: boolean; source: string }): number {
  const libc = fuseLibc();
  const fd = libc.open(cString(FUSE_DEVICE), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) {
    throw new TcfsError(`cannot open ${FUSE_DEVICE}: ${lastErrno().text}`, {
      hint: "check its permissions (crw-rw-rw- root root)",
    });
  }
  const data = `fd=${fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other`;
  const flags = MS_NOSUID | MS_NODEV | (options.readOnly ? MS_RDONLY : 0);
  const rc = libc.mount(
    cString(options.source),
    cString(mountpoint),
    cString("fuse.tcfs"),
    BigInt(flags),
    cString(data),
  );
  if (rc !== 0) {
    const { text } = lastErrno();
    libc.close(fd);
    throw new TcfsError(`cannot mount ${mountpoint}: ${text}`, {
      hint: "mount(2) needs root with CAP_SYS_ADMIN; in a container, run it privileged",
    });
  }
  return fd;
}

/** `socketpair`, `recvmsg` and `close` for fusermount3's hand-over. */
const SOCKET_SYMBOLS = {
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize", nonblocking: true },
  close: { parameters: ["i32"], result: "i32" },
} as const;

async function mountWithFusermount(
  mountpoint: string,
  options: { readOnly: boolean; source: string },
): Promise<number> {
  const sockets = Deno.dlopen("libc.so.6", SOCKET_SYMBOLS);
  try {
    const pair = new Int32Array(2);
    // AF_UNIX, SOCK_STREAM; without CLOEXEC, so that fusermount3 inherits its end.
    if (sockets.symbols.socketpair(1, 1, 0, new Uint8Array(pair.buffer)) !== 0) {
      throw new TcfsError(`cannot create a socket pair: ${lastErrno().text}`);
    }
    const opts = [
      "default_permissions",
      `fsname=${options.source}`,
      "subtype=tcfs",
      "nosuid",
      "nodev",
    ];
    if (options.readOnly) opts.push("ro");
    let child;
    try {
      child = new Deno.Command(FUSERMOUNT, {
        args: ["-o", opts.join(","), "--", mountpoint],
        env: { _FUSE_COMMFD: String(pair[1]) },
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new TcfsError(`mounting as a regular user needs ${FUSERMOUNT}, which is missing`, {
          hint: INSTALL_HINT,
        });
      }
      throw err;
    } finally {
      sockets.symbols.close(pair[1]);
    }
    const fd = await receiveFd(sockets.symbols, pair[0]);
    const { code, stderr } = await child.output();
    sockets.symbols.close(pair[0]);
    if (code !== 0 || fd < 0) {
      const why = new TextDecoder().decode(stderr).trim();
      throw new TcfsError(`${FUSERMOUNT} could not mount ${mountpoint}: ${why}`, {
        hint: /open \/dev\/fuse: Permission denied/.test(why)
          ? "/dev/fuse is not open to you (its usual mode is 0666): ask root to chmod 666 /dev/fuse, or mount as root"
          : "check that the directory is yours and empty, and that /dev/fuse is usable",
      });
    }
    return fd;
  } finally {
    sockets.close();
  }
}

/** The descriptor fusermount3 sends as SCM_RIGHTS ancillary data, or -1. */
async function receiveFd(
  sockets: Deno.DynamicLibrary<typeof SOCKET_SYMBOLS>["symbols"],
  socket: number,
): Promise<number> {
  const data = new Uint8Array(1);
  const iov = new Uint8Array(16);
  const control = new Uint8Array(24); // CMSG_SPACE(sizeof(int)) on 64-bit Linux
  const header = new Uint8Array(56); // struct msghdr
  const address = (bytes: Uint8Array) =>
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
  const iovView = new DataView(iov.buffer);
  iovView.setBigUint64(0, address(data), true);
  iovView.setBigUint64(8, 1n, true);
  const headerView = new DataView(header.buffer);
  headerView.setBigUint64(16, address(iov), true);
  headerView.setBigUint64(24, 1n, true);
  headerView.setBigUint64(32, address(control), true);
  headerView.setBigUint64(40, BigInt(control.length), true);
  const n = Number(await sockets.recvmsg(socket, header, 0));
  const controlView = new DataView(control.buffer);
  // cmsg_level SOL_SOCKET (1), cmsg_type SCM_RIGHTS (1), then the descriptor.
  if (n <= 0 || controlView.getInt32(8, true) !== 1 || controlView.getInt32(12, true) !== 1) {
    return -1;
  }
  return controlView.getInt32(16, true);
}

/**
 * Unmounts `mountpoint`: busy mounts fail unless `lazy`, which detaches now and lets open
 * files finish. Works on a mount whose server died (kill -9).
 *
 * @example
 * ```ts
 * await detachFuse("/mnt/fleet", { lazy: false });
 * ```
 */
export async function detachFuse(mountpoint: string, options: { lazy: boolean }): Promise<void> {
  if (!(await isMountPoint(mountpoint))) {
    throw new TcfsError(`${mountpoint} is not mounted`, { kind: "not_found" });
  }
  if (Deno.uid() === 0) {
    if (fuseLibc().umount2(cString(mountpoint), options.lazy ? MNT_DETACH : 0) === 0) return;
    const { text } = lastErrno();
    throw new TcfsError(`cannot unmount ${mountpoint}: ${text}`, {
      hint: "close the files open under it, or unmount with --lazy",
    });
  }
  const args = ["-u", ...(options.lazy ? ["-z"] : []), "--", mountpoint];
  let output;
  try {
    output = await new Deno.Command(FUSERMOUNT, { args, stdout: "null", stderr: "piped" })
      .output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new TcfsError(`unmounting as a regular user needs ${FUSERMOUNT}, which is missing`, {
        hint: INSTALL_HINT,
      });
    }
    throw err;
  }
  if (output.code !== 0) {
    throw new TcfsError(
      `cannot unmount ${mountpoint}: ${new TextDecoder().decode(output.stderr).trim()}`,
      { hint: "close the files open under it, or unmount with --lazy" },
    );
  }
}

/**
 * Whether `path` is a mount point now (per `/proc/self/mountinfo`).
 *
 * @example
 * ```ts
 * if (await isMountPoint("/mnt/fleet")) console.log("mounted");
 * ```
 */
export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountDevice(path)) !== undefined;
}

/**
 * The device numbers (`major:minor`) of what is mounted at `path`, or undefined when nothing
 * is: a FUSE connection's backing device is named by them under `/sys/class/bdi/`.
 *
 * @example
 * ```ts
 * const device = await mountDevice("/mnt/fleet"); // "0:52"
 * ```
 */
export async function mountDevice(path: string): Promise<string | undefined> {
  const target = await Deno.realPath(path).catch(() => path);
  const table = readKernelFile("/proc/self/mountinfo");
  // The last mount on a path is the one seen there.
  const fields = table.split("\n").map((line) => line.split(" "))
    .findLast((fields) => unescapeMountPath(fields[4] ?? "") === target);
  return fields?.[2];
}

/** Mount tables write space, tab, newline and backslash as octal escapes. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}
