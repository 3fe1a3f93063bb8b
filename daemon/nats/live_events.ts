/**
 * Live copies of state events over core NATS. JetStream needs its stream's leader to take a
 * publish, and a cluster that lost the leader's server takes seconds to elect another
 * (nats-server 2.9: 4–9 s); core NATS delivers to subscribers on any server the moment the
 * publisher is connected. So each event is also announced as a plain message on its subject,
 * and receivers take it from a plain subscription as well as from their durable consumer: the
 * first copy to arrive is handled, the other skipped by id (`event_handover.ts`). The durable
 * copy stays the one that is retried and that catches up a device that was away.
 *
 * The announcement carries the event id as `Nats-Msg-Id`, so when the stream is up it stores
 * the announcement and takes the outbox's later publish of the same event as a duplicate.
 * Publishes through JetStream reach the subscription too, but carry a reply subject for the
 * acknowledgement; they are left to the consumer, so a device sees at most two copies.
 *
 * @module
 */

import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import {
  deviceSubjectPrefix,
  type StateEvent,
  stateEventSubject,
} from "../../core/events/state_event.ts";
import type { FleetKeys } from "../../core/crypto/fleet_keys.ts";
import { describeError } from "../../core/errors.ts";
import { type EventDelivery, readDelivered } from "./event_consumer.ts";
import { eventPayload } from "./sealed_event_payload.ts";
import { STATE_SUBJECTS } from "./state_stream.ts";

/**
 * Publishes `event` as a plain message on its subject, sealed with `keys` when given. Best
 * effort: the outbox publishes it durably whatever happens here.
 *
 * @example
 * ```ts
 * await announceEvent(nc, event, keys);
 * ```
 */
export async function announceEvent(
  nc: NatsConnection,
  event: StateEvent,
  keys: FleetKeys | undefined,
): Promise<void> {
  const subject = stateEventSubject(event);
  const payload = await eventPayload(keys, JSON.stringify(event), subject);
  if (nc.isClosed()) return;
  const header = headers();
  header.set("Nats-Msg-Id", event.id);
  nc.publish(subject, payload, { headers: header });
}

/**
 * Subscribes to other devices' announcements and hands each to `delivery`, while `active()`
 * says so (a handler is registered and the session is not stopping). A failure is only
 * logged, and what can't be read is skipped: the durable copy brings the event again, is
 * retried, and turns what can't be read into a hint.
 *
 * @example
 * ```ts
 * const subscription = receiveLiveEvents(nc, delivery, () => !stopping);
 * subscription.unsubscribe();
 * ```
 */
export function receiveLiveEvents(
  nc: NatsConnection,
  delivery: EventDelivery,
  active: () => boolean,
): Subscription {
  const own = deviceSubjectPrefix(delivery.deviceId);
  const receive = async (msg: Msg) => {
    if (msg.reply || msg.subject.startsWith(own) || !active()) return;
    try {
      const read = await readDelivered(msg.subject, msg.string(), delivery);
      // What can't be read is a hint, given once, by the durable copy.
      if (read.kind === "event") await delivery.handOver(read.event);
    } catch (err) {
      delivery.log(
        "debug",
        `a live event on ${msg.subject} was left to the stream: ${describeError(err)}`,
      );
    }
  };
  return nc.subscribe(STATE_SUBJECTS, { callback: (_err, msg) => void receive(msg) });
}
