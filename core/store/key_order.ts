/**
 * The order S3 lists keys in: by UTF-8 bytes, which is code point order.
 *
 * @module
 */

/**
 * Compares two keys by code point. Plain `<` compares UTF-16 units, which puts
 * U+E000–U+FFFF after characters beyond U+FFFF; S3 puts them before.
 *
 * @example
 * ```ts
 * ["b", "a/c", "a"].sort(compareKeys); // ["a", "a/c", "b"]
 * ```
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (astral code points) above U+E000–U+FFFF, keeping every other order. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}
