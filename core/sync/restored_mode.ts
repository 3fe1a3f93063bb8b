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

let umask: number | undefined;

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
  // Deno.umask() reads the mask without changing it; it cannot change while tcfs runs.
  umask ??= Deno.umask();
  return remoteMode & PERMISSION_BITS & ~umask;
}
