/**
 * Standard padded base64 for small binary payloads in JSON.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/**
 * Encodes bytes as base64.
 *
 * @example
 * ```ts
 * encodeBase64(new Uint8Array([104, 105])); // "aGk="
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * Decodes base64, refusing anything that isn't strict base64.
 *
 * @example
 * ```ts
 * decodeBase64("aGk="); // Uint8Array [104, 105]
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error("not base64");
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}
