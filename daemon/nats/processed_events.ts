/**
 * Ids of events this device has already handled, so a redelivered event
 * (an ack lost in a reconnect, a re-publish after the stream's duplicate
 * window) is handled once. Only the most recent ids are kept.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/** How many handled event ids are remembered. */
export const PROCESSED_EVENTS_KEPT = 10_000;

/** The `event_processed` table of the state db. */
export interface ProcessedEvents {
  /** Whether the event with this id was handled. */
  has(id: string): boolean;
  /** Records that the event was handled, forgetting the oldest ids beyond the limit. */
  add(id: string): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS event_processed (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, processed_at TEXT NOT NULL);
`;

/**
 * Opens the processed-ids table in `db`, creating it if needed.
 *
 * @example
 * ```ts
 * const processed = openProcessedEvents(state.database);
 * if (!processed.has(event.id)) {
 *   await handle(event);
 *   processed.add(event.id);
 * }
 * ```
 */
export function openProcessedEvents(
  db: DatabaseSync,
  kept = PROCESSED_EVENTS_KEPT,
): ProcessedEvents {
  db.exec(SCHEMA);
  const find = db.prepare("SELECT 1 FROM event_processed WHERE id = ?");
  const insert = db.prepare(
    "INSERT OR IGNORE INTO event_processed (id, processed_at) VALUES (?, ?)",
  );
  const forgetOld = db.prepare(
    "DELETE FROM event_processed WHERE seq <= (SELECT MAX(seq) FROM event_processed) - ?",
  );
  return {
    has: (id) => find.get(id) !== undefined,
    add(id) {
      insert.run(id, new Date().toISOString());
      forgetOld.run(kept);
    },
  };
}
