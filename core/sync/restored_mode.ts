/**
 * The permission bits a pulled file gets. A version's `mode` is remote data that
 * anyone holding the bucket keys can write, so only the read/write/execute bits
 * are taken from it, and those through this process's umask, the way a file the
 * user creates here would get them: never setuid, setgid or sticky, and never
 * group- or world-writable when the umask says otherwise.
 *
 * @module
 */

/** Permission bits a version may carry onto disk; setuid, setgid and sticky never. */
const PERMISSION_BITS = 0o777;

/**
 * Read once, when the module loads, before any transfer runs: reading the umask may set it
 * for a moment and back, which would race files other threads create meanwhile.
 */
const UMASK = Deno.umask();

/**
 * The mode to give a file restored from a version with `remoteMode`.
 *
 * @example
 * ```ts
 * // With umask 022:
 * restoredMode(0o6777); // 0o755
 * ```
 */
export function restoredMode(remoteMode: number): number {
  return remoteMode & PERMISSION_BITS & ~UMASK;
}
