/**
 * "At or below a path prefix" in SQL, for the state db's tables keyed by namespace-relative
 * paths. The paths below `a` are those from `a/` up to `a0` (`0` is the byte after `/`), so
 * the test compares strings instead of counting characters: JavaScript counts a character
 * outside the BMP (an emoji in a folder's name) as two and SQLite's `substr` as one, and a
 * prefix such as `📁` found nothing below it.
 *
 * @module
 */

/** True for a `path` at or below the prefix bound by {@linkcode belowPrefixArgs}; all when "". */
export const BELOW_PREFIX_SQL = "(? = '' OR path = ? OR (path >= ? AND path < ?))";

/**
 * The values {@linkcode BELOW_PREFIX_SQL} binds, in order.
 *
 * @example
 * ```ts
 * state.statement(`SELECT path FROM tracked WHERE ${BELOW_PREFIX_SQL}`).all(...belowPrefixArgs("docs"));
 * ```
 */
export function belowPrefixArgs(prefix: string): [string, string, string, string] {
  return [prefix, prefix, `${prefix}/`, `${prefix}0`];
}
