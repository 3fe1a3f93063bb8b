/**
 * BLAKE3 in keyed mode: a 32-byte key turns the hash into a MAC, so only holders of the key
 * can compute or test it. Used to derive fleet subkeys.
 *
 * @module
 */

import { createBLAKE3 } from "hash-wasm";

/**
 * The 32-byte keyed BLAKE3 of `bytes` under `key` (32 bytes).
 *
 * @example
 * ```ts
 * const subkey = await keyedBlake3(rootKey, new TextEncoder().encode("purpose"));
 * subkey.length; // 32
 * ```
 */
export async function keyedBlake3(key: Uint8Array, bytes: Uint8Array): Promise<Uint8Array> {
  const hasher = await createBLAKE3(256, key);
  hasher.update(bytes);
  return hasher.digest("binary");
}
