/**
 * The few libc calls a FUSE mount needs, through `Deno.dlopen`: open, read and write of
 * `/dev/fuse`, mount(2) and umount2(2). Deno's own file API hides the descriptor number,
 * which mount(2) must be told (`fd=N`), and refuses `/dev` and `/proc` without `--allow-all`,
 * so the device and the mount table are opened and read here too. Reads run
 * on Deno's blocking pool (`nonblocking`), so a waiting read never stalls the event loop.
 *
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize", nonblocking: true },
  readNow: { name: "read", parameters: ["i32", "buffer", "usize"], result: "isize" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | undefined;

/** libc, opened once per process. */
export function fuseLibc(): Libc {
  if (!libc) libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return libc;
}

/** A NUL-terminated copy of `text`, as C strings are passed. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** The calling thread's errno after a failed synchronous call, with its text. */
export function lastErrno(): { code: number; text: string } {
  const c = fuseLibc();
  const where = c.__errno_location();
  const code = where ? new Deno.UnsafePointerView(where).getInt32() : 0;
  const text = c.strerror(code);
  return { code, text: text ? new Deno.UnsafePointerView(text).getCString() : `errno ${code}` };
}

/**
 * A small kernel file (`/proc/self/mountinfo`) read whole, synchronously.
 *
 * @example
 * ```ts
 * const table = readKernelFile("/proc/self/mountinfo");
 * ```
 */
export function readKernelFile(path: string): string {
  const c = fuseLibc();
  const fd = c.open(cString(path), O_CLOEXEC, 0);
  if (fd < 0) throw new Error(`cannot open ${path}: ${lastErrno().text}`);
  const parts: Uint8Array[] = [];
  try {
    while (true) {
      const buffer = new Uint8Array(64 * 1024);
      const n = Number(c.readNow(fd, buffer, BigInt(buffer.length)));
      if (n < 0) throw new Error(`cannot read ${path}: ${lastErrno().text}`);
      if (n === 0) break;
      parts.push(buffer.subarray(0, n));
    }
  } finally {
    c.close(fd);
  }
  const decoder = new TextDecoder();
  return parts.map((part) => decoder.decode(part, { stream: true })).join("") + decoder.decode();
}

/**
 * Whether `path` exists (access(2) with F_OK).
 *
 * @example
 * ```ts
 * if (!pathExists("/dev/fuse")) console.error("no FUSE");
 * ```
 */
export function pathExists(path: string): boolean {
  return fuseLibc().access(cString(path), 0) === 0;
}

/** `mount(2)` flags tcfs uses. */
export const MS_RDONLY = 1;
/** Setuid bits on a mounted tree are ignored. */
export const MS_NOSUID = 2;
/** Device files on a mounted tree are not opened as devices. */
export const MS_NODEV = 4;
/** `umount2(2)`: detach now, release once no longer busy. */
export const MNT_DETACH = 2;
/** `open(2)` flags for `/dev/fuse`. */
export const O_RDWR = 2;
/** The descriptor does not leak into programs tcfs runs. */
export const O_CLOEXEC = 0o2000000;
