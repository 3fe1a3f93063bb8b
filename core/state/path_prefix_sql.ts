/**
 * Prefix tests in SQL, for the state db's tables keyed by paths, store locations and keys.
 * None passes a length counted in JavaScript: JavaScript counts a character outside the BMP (an
 * emoji in a folder's name) as two and SQLite's `substr` as one, so a prefix such as `📁`
 * matched nothing below it.
 *
 * @module
 */

/**
 * True for a `column` at or below a folder bound by {@linkcode belowPrefixArgs} (all rows for
 * ""). The paths below `a` are those from `a/` up to `a0` (`0` is the byte after `/`): `a.txt`
 * and `a-b` are not below `a`.
 *
 * @example
 * ```ts
 * state.statement(`SELECT path FROM tracked WHERE ${belowPrefixSql()}`).all(...belowPrefixArgs("docs"));
 * ```
 */
export function belowPrefixSql(column = "path"): string {
  return `(? = '' OR ${column} = ? OR (${column} >= ? AND ${column} < ?))`;
}

/**
 * The values {@linkcode belowPrefixSql} binds, in order.
 *
 * @example
 * ```ts
 * belowPrefixArgs("docs"); // ["docs", "docs", "docs/", "docs0"]
 * ```
 */
export function belowPrefixArgs(prefix: string): [string, string, string, string] {
  return [prefix, prefix, `${prefix}/`, `${prefix}0`];
}

/**
 * True for a `column` that starts with the string bound twice after it
 * ({@linkcode startsWithArgs}), its length counted by SQLite.
 *
 * @example
 * ```ts
 * state.statement(`DELETE FROM meta WHERE ${startsWithSql("key")}`).run(...startsWithArgs("journal_"));
 * ```
 */
export function startsWithSql(column: string): string {
  return `substr(${column}, 1, length(?)) = ?`;
}

/**
 * The values {@linkcode startsWithSql} binds, in order.
 *
 * @example
 * ```ts
 * startsWithArgs("s3://"); // ["s3://", "s3://"]
 * ```
 */
export function startsWithArgs(prefix: string): [string, string] {
  return [prefix, prefix];
}
