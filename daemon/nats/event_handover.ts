/**
 * Handing other devices' events to the daemon's handler: one at a time, and each event id
 * once, whichever way it came. Events arrive twice in a cluster, live over core NATS and
 * durably from the device's consumer, and the handler must see neither copy while the
 * other is being handled.
 *
 * @module
 */

import type { StateEvent } from "../../core/events/state_event.ts";
import type { ProcessedEvents } from "./processed_events.ts";
import { createTurns } from "../../core/concurrency/turns.ts";

/** Handles one event from another device; a rejection has it redelivered later. */
export type StateEventHandler = (event: StateEvent) => Promise<void>;

/**
 * Hands `event` to the handler unless it is this device's own or was handled before, after
 * every event handed earlier has finished. Resolves once it is handled (or skipped); rejects
 * with the handler's error, leaving the id unrecorded so a later copy is handled again.
 */
export type EventHandover = (event: StateEvent) => Promise<void>;

/**
 * The handover for `deviceId`, recording handled ids in `processed` and calling the handler
 * `handler()` returns at the time.
 *
 * @example
 * ```ts
 * const handOver = createEventHandover(deviceId, processed, () => loopHandler);
 * await handOver(event); // a second copy of the same event is skipped
 * ```
 */
export function createEventHandover(
  deviceId: string,
  processed: ProcessedEvents,
  handler: () => StateEventHandler | undefined,
): EventHandover {
  const inTurn = createTurns();
  return (event) =>
    inTurn(async () => {
      if (event.device_id === deviceId || processed.has(event.id)) return;
      const handle = handler();
      if (!handle) throw new Error("no handler for state events is registered yet");
      await handle(event);
      processed.add(event.id);
    });
}
