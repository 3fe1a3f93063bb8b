/**
 * The machine's host name, the default device name.
 *
 * @module
 */

/** The name used when the host name cannot be read. */
export const UNKNOWN_HOST_NAME = "unknown-device";

/**
 * Returns the host name as the OS reports it (the full name, not just its first label), or
 * `"unknown-device"` when it cannot be read, for example without `--allow-sys`: a device name
 * is only a default, so it must never stop tcfs from starting.
 *
 * @example
 * ```ts
 * const name = hostName(); // e.g. "yoga.local"
 * ```
 */
export function hostName(): string {
  try {
    return Deno.hostname().trim() || UNKNOWN_HOST_NAME;
  } catch {
    return UNKNOWN_HOST_NAME;
  }
}
