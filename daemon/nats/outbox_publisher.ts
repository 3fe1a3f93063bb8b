/**
 * Publishing the outbox to JetStream, oldest first, one event at a time.
 *
 * @module
 */

import type { JetStreamClient } from "@nats-io/jetstream";
import type { EventOutbox } from "./event_outbox.ts";
import type { FleetKeys } from "../../core/crypto/fleet_keys.ts";
import { eventPayload } from "./sealed_event_payload.ts";

/** How long to wait for JetStream's acknowledgement of one event. */
export const PUBLISH_ACK_TIMEOUT_MS = 5_000;

/**
 * Publishes outbox entries in order until the outbox is empty, each with its event id as
 * `Nats-Msg-Id`, removing an entry only after JetStream acknowledged it. One event at a
 * time keeps the order in the stream equal to the order of the outbox even when a publish
 * fails halfway. Returns how many events were published; throws on the first failure,
 * leaving that entry (and everything after it) queued for the next attempt.
 *
 * Events are sealed here, with the keys `keys` gives at the time, not when they were queued:
 * the outbox is local state (like the state db it lives in), an event queued while the keys
 * were still being read or before a new epoch is sealed with the newest, and a retried
 * publish seals afresh under the same `Nats-Msg-Id`, which is what JetStream deduplicates on.
 *
 * @example
 * ```ts
 * const published = await publishOutbox(jetstream(nc), outbox, () => undefined, () => {});
 * ```
 */
export async function publishOutbox(
  js: JetStreamClient,
  outbox: EventOutbox,
  keys: () => FleetKeys | undefined,
  onPublished: (publishedAt: string) => void,
): Promise<number> {
  let published = 0;
  for (let entry = outbox.oldest(); entry; entry = outbox.oldest()) {
    const payload = await eventPayload(keys(), entry.payload, entry.subject);
    await js.publish(entry.subject, payload, {
      msgID: entry.id,
      timeout: PUBLISH_ACK_TIMEOUT_MS,
    });
    outbox.remove(entry.seq);
    published++;
    onPublished(new Date().toISOString());
  }
  return published;
}
