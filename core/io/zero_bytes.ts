/**
 * Runs of zero bytes, which a restore leaves as holes in a sparse file instead of writing.
 *
 * @module
 */

/**
 * True when every byte of `bytes` is zero. Cheap for ordinary data: it stops at the first byte
 * that is not, which is nearly always among the first few.
 *
 * @example
 * ```ts
 * if (allZero(chunk)) file.seekSync(chunk.length, Deno.SeekMode.Current);
 * ```
 */
export function allZero(bytes: Uint8Array): boolean {
  // Byte by byte up to an 8-byte boundary, then eight at a time.
  const head = (8 - bytes.byteOffset % 8) % 8;
  let i = 0;
  if (bytes.length < head + 8) {
    for (; i < bytes.length; i++) if (bytes[i] !== 0) return false;
    return true;
  }
  for (; i < head; i++) if (bytes[i] !== 0) return false;
  const words = new BigUint64Array(bytes.buffer, bytes.byteOffset + i, (bytes.length - i) >> 3);
  for (let w = 0; w < words.length; w++) if (words[w] !== 0n) return false;
  for (i += words.length * 8; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
