/**
 * Publishing the outbox to JetStream, oldest first, one event at a time.
 *
 * @module
 */

import type { JetStreamClient } from "@nats-io/jetstream";
import type { EventOutbox } from "./event_outbox.ts";

/** How long to wait for JetStream's acknowledgement of one event. */
export const PUBLISH_ACK_TIMEOUT_MS = 5_000;

/**
 * Publishes outbox entries in order until the outbox is empty, each with its event id as
 * `Nats-Msg-Id`, removing an entry only after JetStream acknowledged it. One event at a
 * time keeps the order in the stream equal to the order of the outbox even when a publish
 * fails halfway. Returns how many events were published; throws on the first failure,
 * leaving that entry (and everything after it) queued for the next attempt.
 *
 * @example
 * ```ts
 * const published = await publishOutbox(jetstream(nc), outbox, () => {});
 * ```
 */
export async function publishOutbox(
  js: JetStreamClient,
  outbox: EventOutbox,
  onPublished: (publishedAt: string) => void,
): Promise<number> {
  let published = 0;
  for (let entry = outbox.oldest(); entry; entry = outbox.oldest()) {
    await js.publish(entry.subject, entry.payload, {
      msgID: entry.id,
      timeout: PUBLISH_ACK_TIMEOUT_MS,
    });
    outbox.remove(entry.seq);
    published++;
    onPublished(new Date().toISOString());
  }
  return published;
}
