/**
 * glibc's allocator held to two arenas (mallopt(3), M_ARENA_MAX): the main thread's, and one
 * that every other thread shares. By default glibc gives threads arenas of their own, up to
 * eight per core, and an arena keeps what it ever held wherever a live allocation sits above the
 * freed ones. Deno's threads (the chunk workers, and the pool that runs file operations, which
 * copies what a pull writes) each grew one: a pull of two large files (1 GiB in all) held 84 MB
 * in a dozen of them, a real tree's pull 36–45 MB. With two arenas, those pulls peaked at
 * 409–414 MB instead of 429–451 MB and at 255–268 MB instead of 265–278 MB, for no more CPU
 * (docs/BENCHMARKS.md).
 *
 * @module
 */

const SYMBOLS = {
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
} as const;

/** mallopt's parameter for the most arenas glibc makes. */
const M_ARENA_MAX = -8;

/** Arenas at most: the main thread's, and one the other threads share. */
export const MALLOC_ARENAS = 2;

/**
 * Holds glibc to {@linkcode MALLOC_ARENAS} arenas from now on (threads that have one keep it);
 * returns whether it could: false off Linux and with a libc other than glibc's, where nothing
 * changes. Call it first thing: once a process has more than eight arenas, glibc fixes its own
 * limit for good and this one is not heeded.
 *
 * @example
 * ```ts
 * limitMallocArenas(); // first thing, before the program starts its threads
 * ```
 */
export function limitMallocArenas(): boolean {
  if (Deno.build.os !== "linux") return false;
  let libc: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    return false; // musl: one allocator for every thread already
  }
  try {
    return libc.symbols.mallopt(M_ARENA_MAX, MALLOC_ARENAS) === 1;
  } finally {
    libc.close();
  }
}
