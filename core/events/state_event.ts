/**
 * State events: what devices announce over NATS JetStream on
 * `STATE.<device_id>.<type>`. They are hints: a receiver reads the store
 * before it acts, so a lost, late or forged event can't corrupt anything.
 *
 * @module
 */

import type { VectorClock } from "../vclock/vector_clock.ts";

/** The event types, as in the seed guide and the Rust tcfs. */
export const STATE_EVENT_TYPES = [
  "file_synced",
  "file_deleted",
  "file_renamed",
  "device_online",
  "device_offline",
  "conflict_detected",
  "conflict_resolved",
] as const;

/** One of {@linkcode STATE_EVENT_TYPES}. */
export type StateEventType = typeof STATE_EVENT_TYPES[number];

/** The JSON payload of a state event. */
export interface StateEvent {
  /** Unique per event; also the `Nats-Msg-Id`, so a re-publish is deduplicated. */
  id: string;
  type: StateEventType;
  device_id: string;
  device_name: string;
  /** ISO 8601 time the event was created (not published). */
  timestamp: string;
  namespace?: string;
  /** Path relative to the namespace (file_* and conflict_* events). */
  path?: string;
  /** Previous path (file_renamed). */
  old_path?: string;
  /** Key of the version the event is about. */
  version_key?: string;
  vclock?: VectorClock;
  /**
   * For file_* events: the author's last journal segment when the event was made, which holds
   * the version. A receiver whose catch-up has not reached it yet looks again soon.
   */
  journal_seq?: number;
  /** For conflict_resolved: keep_local, keep_remote or keep_both. */
  resolution?: string;
}

/** The NATS subject an event is published on. */
export function stateEventSubject(event: Pick<StateEvent, "device_id" | "type">): string {
  return `${deviceSubjectPrefix(event.device_id)}${event.type}`;
}

/**
 * What every subject of `deviceId`'s events starts with: a receiver skips its own by it.
 *
 * @example
 * ```ts
 * msg.subject.startsWith(deviceSubjectPrefix(myId)); // one of this device's own events
 * ```
 */
export function deviceSubjectPrefix(deviceId: string): string {
  return `STATE.${deviceId}.`;
}

/** Stream that stores every state event: file storage, limits retention, 7 days. */
export const STATE_STREAM = "STATE_UPDATES";
