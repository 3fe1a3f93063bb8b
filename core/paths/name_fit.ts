/**
 * Names tcfs makes from a user's file name (temp files, conflict copies) must fit where the
 * user's own name fits: most file systems refuse a name over 255 bytes (ext4, APFS, NTFS), and
 * a name near that limit plus a suffix would be refused, so that file could never be pulled.
 *
 * @module
 */

/** The longest name, in bytes of UTF-8, that ext4, APFS, HFS+ and NTFS all take. */
export const NAME_MAX_BYTES = 255;

const encoder = new TextEncoder();

/**
 * The length of `text` in bytes of UTF-8, as file systems count a name.
 *
 * @example
 * ```ts
 * utf8Length("café"); // 5
 * ```
 */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/**
 * The longest start of `name` that is at most `bytes` long in UTF-8, cut between code points
 * (a cut inside one would leave a name that is not valid UTF-8).
 *
 * @example
 * ```ts
 * utf8Prefix("café.txt", 4); // "caf"
 * ```
 */
export function utf8Prefix(name: string, bytes: number): string {
  if (utf8Length(name) <= bytes) return name;
  let kept = "";
  let used = 0;
  for (const char of name) {
    used += utf8Length(char);
    if (used > bytes) break;
    kept += char;
  }
  return kept;
}

/**
 * `stem + tail`, with `stem` cut short (between code points) so that the whole name is at most
 * {@linkcode NAME_MAX_BYTES} long; `tail` is kept whole.
 *
 * @example
 * ```ts
 * fitName("x".repeat(250), ".tcfs-tmp-1-0f3a9c1e").length; // 255
 * ```
 */
export function fitName(stem: string, tail: string): string {
  return utf8Prefix(stem, NAME_MAX_BYTES - utf8Length(tail)) + tail;
}
