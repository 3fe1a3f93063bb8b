/**
 * The durable outbox: every state event is stored in the state db before it
 * is published, and leaves only when JetStream has acknowledged it. nats.js
 * silently drops publishes it buffered across a reconnect, so its buffer is
 * never trusted with an event.
 *
 * @module
 */

import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { type StateEvent, stateEventSubject } from "../../core/events/state_event.ts";

/** Most events kept while NATS is unreachable; beyond it the oldest are dropped. */
export const OUTBOX_LIMIT = 100_000;

/** One queued event, as it will be published. */
export interface OutboxEntry {
  /** Insertion order: entries are published in ascending `seq`. */
  seq: number;
  /** The event id, sent as `Nats-Msg-Id`. */
  id: string;
  subject: string;
  /** The event's JSON. */
  payload: string;
  createdAt: string;
}

/** The `event_outbox` table of the state db. */
export interface EventOutbox {
  /**
   * Queues `event` (an id already queued is ignored). When the queue grows past
   * {@linkcode OUTBOX_LIMIT}, the oldest entries are dropped; returns how many.
   */
  add(event: StateEvent): number;
  /** The oldest entry, or undefined when the outbox is empty. */
  oldest(): OutboxEntry | undefined;
  /** Removes a published entry. */
  remove(seq: number): void;
  /** How many entries wait to be published. */
  depth(): number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS event_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, subject TEXT NOT NULL,
  payload TEXT NOT NULL, created_at TEXT NOT NULL);
`;

/**
 * Opens the outbox in `db`, creating its table if needed.
 *
 * @example
 * ```ts
 * const outbox = openEventOutbox(state.database);
 * outbox.add(event);
 * const next = outbox.oldest(); // publish it, then:
 * if (next) outbox.remove(next.seq);
 * ```
 */
export function openEventOutbox(db: DatabaseSync, limit = OUTBOX_LIMIT): EventOutbox {
  db.exec(SCHEMA);
  const insert = db.prepare(
    "INSERT OR IGNORE INTO event_outbox (id, subject, payload, created_at) VALUES (?, ?, ?, ?)",
  );
  const count = db.prepare("SELECT COUNT(*) AS n FROM event_outbox");
  const dropOldest = db.prepare(
    "DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox ORDER BY seq LIMIT ?)",
  );
  const first = db.prepare("SELECT * FROM event_outbox ORDER BY seq LIMIT 1");
  const removeOne = db.prepare("DELETE FROM event_outbox WHERE seq = ?");
  const depth = () => Number((count.get() as Record<string, SQLInputValue>).n);

  return {
    add(event) {
      insert.run(
        event.id,
        stateEventSubject(event),
        JSON.stringify(event),
        new Date().toISOString(),
      );
      const excess = depth() - limit;
      if (excess <= 0) return 0;
      dropOldest.run(excess);
      return excess;
    },
    oldest() {
      const row = first.get() as Record<string, SQLInputValue> | undefined;
      if (!row) return undefined;
      return {
        seq: Number(row.seq),
        id: row.id as string,
        subject: row.subject as string,
        payload: row.payload as string,
        createdAt: row.created_at as string,
      };
    },
    remove(seq) {
      removeOne.run(seq);
    },
    depth,
  };
}
