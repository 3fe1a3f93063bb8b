/**
 * The one order of paths that every pass over a whole tree walks in: the state database's
 * `ORDER BY path` (SQLite compares text byte by byte in UTF-8, which is code point order), so
 * a folder scan, the tracked rows and the fold can be merged in one pass without holding any
 * of them whole.
 *
 * @module
 */

/**
 * Compares two paths in code point order: negative, zero or positive. JavaScript's `<`
 * compares UTF-16 units instead, which puts a character beyond U+FFFF (a surrogate pair)
 * before U+E000–U+FFFF where UTF-8 puts it after.
 *
 * @example
 * ```ts
 * ["b", "a/c", "a.txt"].sort(comparePaths); // ["a.txt", "a/c", "b"]
 * ```
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  // Where neither holds a unit from U+D800 on, the two orders agree, and `<` is native.
  if (!BEYOND_SURROGATES.test(a) && !BEYOND_SURROGATES.test(b)) return a < b ? -1 : 1;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** UTF-16 units from the first surrogate on, where the two orders can part. */
const BEYOND_SURROGATES = /[\uD800-\uFFFF]/;

/** Moves surrogates above U+E000–U+FFFF, as the code points they encode are. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}
