/**
 * Rows of a test device's state database, read-only: for asserting what a
 * device recorded on disk.
 *
 * @module
 */

import { join } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";

/**
 * Runs a query against the state db under `home` and returns its rows.
 *
 * @example
 * ```ts
 * const rows = stateRows(a.home, "SELECT path FROM tracked");
 * ```
 */
export function stateRows(
  home: string,
  sql: string,
  ...params: SQLInputValue[]
): Record<string, SQLInputValue>[] {
  const db = new DatabaseSync(join(home, ".local/state/tcfs/state.db"), { readOnly: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}
