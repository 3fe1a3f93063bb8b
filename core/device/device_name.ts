/**
 * What a device name may be. Names show up in `tcfs device list`, in versions (`author_name`),
 * in conflict copies (`name.conflict-<device>-….ext`) and in the `auto` conflict tie-break, so
 * they are kept to characters that are safe in all of those places.
 *
 * @module
 */

import { ExitCode, TcfsError } from "../errors.ts";

/** Letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters. */
const DEVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The longest device name, in characters (all ASCII, so also in bytes). */
export const MAX_DEVICE_NAME_LENGTH = 64;

/**
 * Whether `name` is a valid device name.
 *
 * @example
 * ```ts
 * isDeviceName("yoga"); // true
 * ```
 */
export function isDeviceName(name: string): boolean {
  return DEVICE_NAME_PATTERN.test(name);
}

/**
 * Returns `name` when it is a valid device name; throws a usage error saying why not otherwise.
 *
 * @throws {TcfsError} (kind `invalid_device_name`, exit code 2).
 *
 * @example
 * ```ts
 * assertDeviceName("petting-zoo-mini"); // "petting-zoo-mini"
 * assertDeviceName("../x"); // throws
 * ```
 */
export function assertDeviceName(name: string): string {
  if (isDeviceName(name)) return name;
  const problem = name === ""
    ? "it is empty"
    : new TextEncoder().encode(name).length > MAX_DEVICE_NAME_LENGTH
    ? `it is longer than ${MAX_DEVICE_NAME_LENGTH} characters`
    : /[^A-Za-z0-9._-]/.test(name)
    ? "it contains characters other than letters, digits, '.', '_' and '-'"
    : "it starts with '.', '_' or '-'";
  const shown = name.length > 40 ? `${JSON.stringify(name.slice(0, 40))}…` : JSON.stringify(name);
  throw new TcfsError(`invalid device name ${shown}: ${problem}`, {
    kind: "invalid_device_name",
    exitCode: ExitCode.usage,
    hint: `choose 1 to ${MAX_DEVICE_NAME_LENGTH} letters, digits, '.', '_' or '-', starting ` +
      "with a letter or digit, e.g. --name yoga",
  });
}
