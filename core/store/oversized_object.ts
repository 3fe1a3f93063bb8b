/**
 * The error for an object bigger than its reader accepts. Stores refuse such an
 * object before buffering it: its size is chosen by whoever wrote it, and anyone
 * holding the bucket keys can write.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";

/**
 * The `oversized_object` error for `key`, which holds `size` bytes where at most
 * `maxBytes` were accepted.
 *
 * @example
 * ```ts
 * if (size > maxBytes) throw oversizedObject("ns/default/v/ab/dev-1.json", size, maxBytes);
 * ```
 */
export function oversizedObject(
  key: string,
  size: number | undefined,
  maxBytes: number,
): TcfsError {
  const holds = size === undefined ? "holds more" : `holds ${size} bytes, more`;
  return new TcfsError(
    `object "${key}" ${holds} than the ${maxBytes} it may hold; it was not read`,
    {
      kind: "oversized_object",
      hint:
        "it was not written by tcfs (or is damaged); delete it, and rotate the bucket keys if you did not put it there",
    },
  );
}
