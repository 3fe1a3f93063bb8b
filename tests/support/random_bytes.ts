/**
 * Deterministic pseudo-random bytes for test data (crypto.getRandomValues
 * caps at 64 KiB per call and isn't reproducible).
 *
 * @module
 */

/**
 * Fills `size` bytes from a seeded xorshift generator.
 *
 * @example
 * ```ts
 * const data = randomBytes(1 << 20, 42);
 * ```
 */
export function randomBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, Math.floor(size / 4));
  // Mix both halves of the seed with integer multiplies: a float product would lose the low
  // bits and make different seeds collide.
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  let x =
    (Math.imul(low ^ 0x9e3779b9, 2654435761) ^ Math.imul(high + 0x7f4a7c15, 0x85ebca6b)) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = (x >>> (8 * (i % 4))) & 0xff;
  return out;
}

/**
 * Writes `size` pseudo-random bytes to `path` in 8 MiB pieces.
 *
 * @example
 * ```ts
 * await writeRandomFile("/tmp/big.bin", 100_000_000, 7);
 * ```
 */
export async function writeRandomFile(path: string, size: number, seed = 1): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const piece = 8 << 20;
  for (let offset = 0, i = 0; offset < size; offset += piece, i++) {
    const bytes = randomBytes(Math.min(piece, size - offset), seed * 1000 + i);
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
  }
}
