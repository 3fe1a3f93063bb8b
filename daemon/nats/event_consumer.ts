/**
 * Delivering other devices' state events from the device's durable consumer
 * to the daemon's handler, acknowledging each only once it is handled.
 *
 * @module
 */

import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { StateEvent } from "../../core/events/state_event.ts";
import { deviceSubjectPrefix, STATE_STREAM } from "../../core/events/state_event.ts";
import { describeError } from "../../core/errors.ts";
import { deviceConsumerName } from "./state_stream.ts";
import type { FleetKeys } from "../../core/crypto/fleet_keys.ts";
import { readEventPayload, type ReceivedPayload } from "./sealed_event_payload.ts";
import type { EventHandover } from "./event_handover.ts";

/** The fleet keys events are sealed and opened with, as the daemon keeps them. */
export interface EventKeys {
  /** The keys held now; undefined in a plaintext fleet or when not approved. */
  current(): FleetKeys | undefined;
  /** Whether the keys were read yet: until then no event leaves, lest it leave unsealed. */
  known(): boolean;
  /** Reads the keychains again (an event named a newer epoch) and returns the keys then held. */
  refresh(): Promise<FleetKeys | undefined>;
}

/** What delivering an event needs. */
export interface EventDelivery {
  deviceId: string;
  /** Hands the event to the daemon's handler, once per id. */
  handOver: EventHandover;
  /** Told when an event arrived that can't be read or trusted: look in the store. */
  hint: () => void;
  keys?: EventKeys;
  log: (level: "debug" | "warning", message: string) => void;
}

/**
 * How long a pull request waits on the server. Short, because a request whose client went
 * away (a restart, a lost connection) keeps taking messages until it expires (nats-server
 * 2.9 doesn't check its interest), and those come back only after the 30 s ack wait.
 */
const PULL_EXPIRES_MS = 5_000;

/**
 * When events pulled but not handled are handed back on stop: past the expiry of the pull
 * request that carried them, so they go to the next consumer run, not to that request.
 */
const HAND_BACK_DELAY_MS = PULL_EXPIRES_MS + 1_000;

/**
 * How often the server confirms a waiting pull request. Two missed, and the run ends so the
 * caller sets it up again: the pull request died with the server holding the consumer's
 * leader, and nats.js alone would retry only after an expiry's worth of waiting.
 */
const IDLE_HEARTBEAT_MS = 1_000;

/** The longest a failed event waits before it is redelivered; the wait doubles from 1 s. */
const MAX_REDELIVERY_DELAY_MS = 60_000;

/**
 * Consumes the device's durable consumer until `signal` aborts (after the event being
 * handled; events pulled but not yet handled are handed back) or the consumer ends on its
 * own (its stream or consumer disappeared, the connection closed), which the caller treats
 * as a reason to set things up again.
 *
 * @throws {Error} when the consumer stalled: the server stopped confirming the pull request
 * (its leader moved or its server died) or nobody answers for the consumer.
 *
 * @example
 * ```ts
 * const run = new AbortController();
 * await consumeStateEvents(jetstream(nc), delivery, run.signal);
 * ```
 */
export async function consumeStateEvents(
  js: JetStreamClient,
  delivery: EventDelivery,
  signal: AbortSignal,
): Promise<void> {
  const consumer = await js.consumers.get(STATE_STREAM, deviceConsumerName(delivery.deviceId));
  if (signal.aborted) return;
  const messages = await consumer.consume({
    abort_on_missing_resource: true,
    expires: PULL_EXPIRES_MS,
    idle_heartbeat: IDLE_HEARTBEAT_MS,
  });
  const stop = () => messages.stop();
  signal.addEventListener("abort", stop);
  let stalled: string | undefined;
  const watching = (async () => {
    for await (const status of messages.status()) {
      if (status.type !== "heartbeats_missed" && status.type !== "no_responders") continue;
      stalled = status.type === "heartbeats_missed"
        ? "the server stopped confirming the consumer's pull request (heartbeats missed)"
        : "no server answers for the consumer (no responders)";
      messages.stop();
      break;
    }
  })();
  try {
    for await (const msg of messages) {
      if (signal.aborted) {
        // Hand back what was pulled but not handled, so the next run gets it in seconds and
        // in order rather than after the ack wait. On a closed connection this can't be
        // sent, and the ack wait brings it back instead.
        try {
          msg.nak(HAND_BACK_DELAY_MS);
        } catch {
          break;
        }
        continue;
      }
      await deliverStateEvent(msg, delivery);
    }
  } finally {
    signal.removeEventListener("abort", stop);
    messages.stop();
    await watching;
  }
  if (stalled && !signal.aborted) throw new Error(`the consumer stalled: ${stalled}`);
}

/**
 * Handles one message: invalid payloads are terminated (never redelivered), this device's
 * own events and already-handled ids (the handover's) are acknowledged, and a failing handler
 * gets the message redelivered after a delay that grows with each attempt. A payload that
 * can't be opened or trusted (`sealed_event_payload.ts`) is acknowledged and passed on as a
 * bare hint, once: redelivering it would not make it readable.
 *
 * @example
 * ```ts
 * for await (const msg of messages) await deliverStateEvent(msg, delivery);
 * ```
 */
export async function deliverStateEvent(msg: JsMsg, delivery: EventDelivery): Promise<void> {
  // The subject names the sender (`STATE.<device>.<type>`): own events need no opening.
  if (msg.subject.startsWith(deviceSubjectPrefix(delivery.deviceId))) {
    msg.ack();
    return;
  }
  let event: StateEvent;
  try {
    const read = await readDelivered(msg.subject, msg.string(), delivery);
    if (read.kind === "hint") {
      delivery.log("debug", `an event on ${msg.subject} taken as a hint to look: ${read.why}`);
      msg.ack();
      delivery.hint();
      return;
    }
    event = read.event;
  } catch (err) {
    delivery.log("warning", describeError(err));
    msg.term("invalid state event");
    return;
  }
  try {
    await delivery.handOver(event);
  } catch (err) {
    const delayMs = Math.min(MAX_REDELIVERY_DELAY_MS, 1000 * 2 ** (msg.info.deliveryCount - 1));
    delivery.log(
      "warning",
      `handling ${event.type} event ${event.id} failed (attempt ${msg.info.deliveryCount}), ` +
        `retrying in ${Math.round(delayMs / 1000)} s: ${describeError(err)}`,
    );
    msg.nak(delayMs);
    return;
  }
  msg.ack();
}

/**
 * Reads a payload received on `subject` with the keys `delivery` holds, reading the keychains
 * again when it is sealed with a newer epoch (as {@linkcode readEventPayload}).
 *
 * @example
 * ```ts
 * const read = await readDelivered(msg.subject, msg.string(), delivery);
 * ```
 */
export function readDelivered(
  subject: string,
  payload: string,
  delivery: EventDelivery,
): Promise<ReceivedPayload> {
  return readEventPayload(
    subject,
    payload,
    delivery.keys?.current(),
    () => delivery.keys?.refresh() ?? Promise.resolve(undefined),
  );
}
