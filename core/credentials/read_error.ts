/**
 * Describing why a file could not be read, in words for the user.
 *
 * @module
 */

/**
 * Turns an error from `Deno.readFile`/`Deno.stat` into a short phrase
 * ("not found", "permission denied", …) that fits after a path.
 *
 * @example
 * ```ts
 * try {
 *   await Deno.readTextFile("/nope");
 * } catch (err) {
 *   console.log(`/nope: ${describeReadError(err)}`); // "/nope: not found"
 * }
 * ```
 */
export function describeReadError(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "not found";
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  return `cannot be read (${err instanceof Error ? err.message : String(err)})`;
}
