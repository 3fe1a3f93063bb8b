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
  writev: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
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
 * Makes glibc's malloc give large blocks back to the kernel when they are freed: each is mapped
 * on its own (M_MMAP_THRESHOLD; without it the threshold grows to 32 MiB after the first free,
 * and the freed chunk and range buffers of a long read stay in the heap, about 170 MB of
 * resident memory while a mount reads a large file, measured). Costs a page fault per 4 KiB of
 * each such buffer. A no-op on other C libraries (the call fails).
 *
 * @example
 * ```ts
 * returnFreedMemory();
 * ```
 */
export function returnFreedMemory(): void {
  const M_TRIM_THRESHOLD = -1;
  const M_MMAP_THRESHOLD = -3;
  fuseLibc().mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
  fuseLibc().mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_BYTES);
}

/** Blocks from this size up are mapped on their own: chunks are 64 KiB to 1 MiB. */
const MMAP_THRESHOLD_BYTES = 128 * 1024;

/**
 * Writes `text` to a small kernel file (`/sys/class/bdi/…/read_ahead_kb`); false when it
 * cannot be opened or written (not root, no such file).
 *
 * @example
 * ```ts
 * writeKernelFile("/sys/class/bdi/0:52/read_ahead_kb", "4096");
 * ```
 */
export function writeKernelFile(path: string, text: string): boolean {
  const c = fuseLibc();
  const fd = c.open(cString(path), O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0) return false;
  try {
    const bytes = new TextEncoder().encode(text);
    return Number(c.write(fd, bytes, BigInt(bytes.length))) === bytes.length;
  } finally {
    c.close(fd);
  }
}

/**
 * Writes `parts` to `fd` in one writev(2), uncopied: /dev/fuse takes a reply in one write, and a
 * read's data then needs no copy behind its header. Returns what writev returned.
 *
 * @example
 * ```ts
 * writeParts(fd, [header, data]);
 * ```
 */
export function writeParts(fd: number, parts: Uint8Array[]): number {
  const iov = new BigUint64Array(parts.length * 2);
  parts.forEach((part, i) => {
    // An empty array may have no backing store (a null pointer), which writev accepts at length 0.
    iov[i * 2] = part.length ? BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(part))) : 0n;
    iov[i * 2 + 1] = BigInt(part.length);
  });
  return Number(fuseLibc().writev(fd, new Uint8Array(iov.buffer), parts.length));
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
/** `open(2)` flag for a kernel setting written. */
export const O_WRONLY = 1;
/** The descriptor does not leak into programs tcfs runs. */
export const O_CLOEXEC = 0o2000000;
