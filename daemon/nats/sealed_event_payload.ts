/**
 * State events under end-to-end encryption. A device that holds the fleet keys publishes
 * `{"sealed":"<base64 box>"}`: the event's JSON sealed with the current epoch, bound to the
 * subject, so NATS and anyone reading the stream learn only the subject (sender and type). A
 * box cannot be replayed under another device's subject: it fails to open there.
 *
 * What a receiver cannot trust (a box it cannot open, a plaintext event in a sealed fleet) is
 * only a hint that something changed: the store, read with the keys, has the truth.
 *
 * @module
 */

import type { StateEvent } from "../../core/events/state_event.ts";
import type { FleetKeys } from "../../core/crypto/fleet_keys.ts";
import { boxEpoch, openBytes, sealBytes } from "../../core/crypto/sealed_box.ts";
import { decodeBase64, encodeBase64 } from "../../core/encoding/base64.ts";
import { describeError } from "../../core/errors.ts";
import { decodeStateEvent } from "./state_event_payload.ts";

/** What a received payload turned out to be. */
export type ReceivedPayload =
  /** A checked event: sealed and opened with the keys, or plaintext in a plaintext fleet. */
  | { kind: "event"; event: StateEvent }
  /** Something changed, the payload can't say what (trustworthily): look in the store. */
  | { kind: "hint"; why: string };

/**
 * The payload to publish on `subject` for an event's JSON: sealed when `keys` are given.
 *
 * @example
 * ```ts
 * const payload = await eventPayload(keys, JSON.stringify(event), stateEventSubject(event));
 * ```
 */
export async function eventPayload(
  keys: FleetKeys | undefined,
  json: string,
  subject: string,
): Promise<string> {
  if (!keys) return json;
  const box = await sealBytes(keys, new TextEncoder().encode(json), subject);
  return JSON.stringify({ sealed: encodeBase64(box) });
}

/**
 * Reads a payload received on `subject` with this device's `keys` (undefined when it holds
 * none: a plaintext fleet, or not approved). A sealed box whose epoch is newer than `keys`
 * calls `newerEpoch` (which reads the keychains again) and is opened with what it returns.
 *
 * @throws {TcfsError} `state_event_invalid` for a plaintext payload, or an opened one, that is
 *   not a valid event (as {@linkcode decodeStateEvent}).
 *
 * @example
 * ```ts
 * const read = await readEventPayload(msg.subject, msg.string(), keys, refreshKeys);
 * if (read.kind === "hint") loop.pollSoon();
 * ```
 */
export async function readEventPayload(
  subject: string,
  payload: string,
  keys: FleetKeys | undefined,
  newerEpoch: () => Promise<FleetKeys | undefined>,
): Promise<ReceivedPayload> {
  const box = sealedBox(payload);
  if (!box) {
    // Unauthenticated: anyone who can publish on the stream could have written it.
    if (keys) return { kind: "hint", why: "a plaintext event in an encrypted fleet" };
    return { kind: "event", event: decodeStateEvent(subject, payload) };
  }
  if (box === "damaged") return { kind: "hint", why: "its sealed payload is not base64" };
  const epoch = boxEpoch(box);
  if (keys && epoch !== undefined && epoch > keys.epoch) keys = await newerEpoch();
  if (!keys) return { kind: "hint", why: "it is sealed and this device holds no fleet key" };
  let plain: Uint8Array;
  try {
    plain = await openBytes(keys, box, subject);
  } catch (err) {
    return { kind: "hint", why: describeError(err) };
  }
  return { kind: "event", event: decodeStateEvent(subject, new TextDecoder().decode(plain)) };
}

/**
 * The box of a sealed payload; undefined for anything else (a plaintext event). Publishers
 * write exactly `{"sealed":"…"}`, so the prefix tells without parsing every plaintext event
 * twice.
 */
function sealedBox(payload: string): Uint8Array | "damaged" | undefined {
  if (!payload.startsWith('{"sealed":')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const sealed = (value as { sealed?: unknown }).sealed;
  if (typeof sealed !== "string") return undefined;
  try {
    return decodeBase64(sealed);
  } catch {
    return "damaged";
  }
}
