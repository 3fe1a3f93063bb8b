/**
 * Reading a state event off the wire. Events come from other devices, so
 * the payload is checked before anyone looks at it.
 *
 * @module
 */

import { TcfsError } from "../../core/errors.ts";
import { unsafePathReason } from "../../core/paths/remote_path.ts";
import {
  STATE_EVENT_TYPES,
  type StateEvent,
  stateEventSubject,
} from "../../core/events/state_event.ts";

const REQUIRED_TEXT = ["id", "type", "device_id", "device_name", "timestamp"] as const;
const OPTIONAL_TEXT = ["namespace", "path", "old_path", "version_key", "resolution"] as const;
/** Far above any real event (a few hundred bytes); NATS itself allows a megabyte. */
const MAX_PAYLOAD_CHARS = 64 * 1024;

/**
 * Parses and checks the JSON of an event received on `subject`: the required fields are
 * present, the type is known, optional fields have the right types, paths are safe relative
 * paths, and the subject is the one the event's own device and type give (so a device can't
 * speak for another). A payload over 64 KiB is refused unread.
 *
 * @example
 * ```ts
 * const event = decodeStateEvent(msg.subject, msg.string());
 * ```
 * @throws {TcfsError} when the payload is not a valid state event.
 */
export function decodeStateEvent(subject: string, payload: string): StateEvent {
  if (payload.length > MAX_PAYLOAD_CHARS) {
    throw invalid(subject, `the payload is larger than ${MAX_PAYLOAD_CHARS} characters`);
  }
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    throw invalid(subject, "the payload is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(subject, "the payload is not a JSON object");
  }
  const fields = value as Record<string, unknown>;
  for (const name of REQUIRED_TEXT) {
    if (typeof fields[name] !== "string" || fields[name] === "") {
      throw invalid(subject, `"${name}" is missing or not a string`);
    }
  }
  for (const name of OPTIONAL_TEXT) {
    if (fields[name] !== undefined && typeof fields[name] !== "string") {
      throw invalid(subject, `"${name}" is not a string`);
    }
  }
  for (const name of ["path", "old_path"] as const) {
    const reason = fields[name] === undefined
      ? undefined
      : unsafePathReason(fields[name] as string);
    if (reason) throw invalid(subject, `"${name}" ${reason}`);
  }
  if (!(STATE_EVENT_TYPES as readonly unknown[]).includes(fields.type)) {
    throw invalid(subject, `unknown event type "${fields.type}"`);
  }
  if (
    fields.journal_seq !== undefined &&
    !(Number.isSafeInteger(fields.journal_seq) && (fields.journal_seq as number) >= 1)
  ) {
    throw invalid(subject, `"journal_seq" is not a segment number`);
  }
  if (fields.vclock !== undefined && !isVectorClock(fields.vclock)) {
    throw invalid(subject, `"vclock" is not a map of device ids to counters`);
  }
  const event = value as StateEvent;
  if (stateEventSubject(event) !== subject) {
    throw invalid(subject, `it was sent on a subject other than ${stateEventSubject(event)}`);
  }
  return event;
}

function isVectorClock(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((counter) => Number.isSafeInteger(counter) && counter >= 0);
}

function invalid(subject: string, problem: string): TcfsError {
  return new TcfsError(`ignoring an invalid state event on ${subject}: ${problem}`, {
    hint: "the sending device may run an incompatible tcfs version",
    kind: "state_event_invalid",
  });
}
