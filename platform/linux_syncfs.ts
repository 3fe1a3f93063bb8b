/**
 * Linux's syncfs(2) through `Deno.dlopen`, as the flusher of restores (`core/io/
 * restore_durability.ts`). Since Linux 5.8, syncfs reports write-back errors met since the
 * descriptor it is given was opened, which is what lets one flush stand for many fsyncs.
 *
 * @module
 */

import type { FilesystemFlusher } from "../core/io/restore_durability.ts";
import { cString, lastErrno } from "./fuse/fuse_libc.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // On Deno's blocking pool: a flush waits for the disk.
  syncfs: { parameters: ["i32"], result: "i32", nonblocking: true },
} as const;

const O_RDONLY_CLOEXEC = 0o2000000;

/**
 * The syncfs flusher, or undefined where there is none (not Linux, a kernel before 5.8 whose
 * syncfs does not report write errors, or no glibc to open): restores then fsync each file and
 * folder.
 *
 * @example
 * ```ts
 * useFilesystemFlusher(linuxSyncfs());
 * ```
 */
export function linuxSyncfs(): FilesystemFlusher | undefined {
  if (Deno.build.os !== "linux" || !reportsWriteErrors(Deno.osRelease())) return undefined;
  let libc: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch {
    return undefined; // a libc other than glibc's (musl): per-file fsyncs still work
  }
  return {
    open(dir) {
      const fd = libc.open(cString(dir), O_RDONLY_CLOEXEC);
      if (fd < 0) throw new Error(`cannot open ${dir} to flush it: ${lastErrno().text}`);
      return {
        async flush() {
          // errno is the pool thread's, out of reach: the message names the call instead.
          if (await libc.syncfs(fd) !== 0) {
            throw new Error(
              `flushing the filesystem that holds ${dir} to disk failed (syncfs): a write error ` +
                "on that disk; nothing was recorded as synced",
            );
          }
        },
        close: () => void libc.close(fd),
      };
    },
  };
}

/** Whether a kernel of `release` ("6.1.0-18-amd64") has syncfs report write-back errors: 5.8+. */
export function reportsWriteErrors(release: string): boolean {
  const [major, minor] = release.split(/[.-]/).map(Number);
  return major > 5 || (major === 5 && minor >= 8);
}
