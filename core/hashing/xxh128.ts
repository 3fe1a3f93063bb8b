/**
 * XXH3-128 (32 lowercase hex digits), on hash-wasm: a fingerprint for telling
 * whether a region of a local file still holds the chunk it held at the last
 * sync. It runs at ~4 GB/s here against BLAKE3's ~0.6, and it never names
 * anything in the store: chunk ids stay BLAKE3.
 *
 * @module
 */

import { createXXHash128, type IHasher } from "hash-wasm";

let instance: IHasher | undefined;

/**
 * Returns the XXH3-128 fingerprint of `bytes`.
 *
 * @example
 * ```ts
 * const print = await xxh128Hex(new TextEncoder().encode("abc"));
 * ```
 */
export async function xxh128Hex(bytes: Uint8Array): Promise<string> {
  instance ??= await createXXHash128();
  // init, update and digest run without an await between them, so callers never interleave.
  return instance.init().update(bytes).digest("hex");
}
