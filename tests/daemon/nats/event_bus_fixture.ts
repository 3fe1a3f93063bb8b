/**
 * Event buses for tests: each with its own state db and device id, recording
 * what it receives and logs.
 *
 * @module
 */

import type { NatsConfig } from "../../../core/config/config_schema.ts";
import type { StateEvent } from "../../../core/events/state_event.ts";
import { StateDb } from "../../../core/state/state_db.ts";
import { createEventBus, type EventBus } from "../../../daemon/nats/event_bus.ts";
import type { EventKeys } from "../../../daemon/nats/event_consumer.ts";

/** A bus under test and what it saw. */
export interface TestBus extends AsyncDisposable {
  bus: EventBus;
  deviceId: string;
  state: StateDb;
  /** Events the handler received, in order. */
  received: StateEvent[];
  /** How many events came as bare hints (unreadable or untrusted). */
  hints: number;
  /** Every log line, as `level: message`. */
  logs: string[];
}

/** Options for {@linkcode startTestBus}. */
export interface TestBusOptions {
  natsUrl?: string;
  nats?: NatsConfig;
  /** Register a handler that records events (default true). */
  receive?: boolean;
  /** An existing state db file and the device's id (to restart a device). */
  statePath?: string;
  deviceId?: string;
  /** The fleet keys: events are then sealed and only sealed ones read. */
  keys?: EventKeys;
}

/** Short backoffs, so reconnects in tests take well under a second. */
const TEST_MAX_BACKOFF_MS = 300;

/**
 * Starts a bus for a fresh device.
 *
 * @example
 * ```ts
 * await using a = await startTestBus({ natsUrl: nats.url });
 * a.bus.publish(testEvent(a.deviceId, 1));
 * ```
 */
export async function startTestBus(options: TestBusOptions): Promise<TestBus> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-test-bus-" });
  const state = await StateDb.open(options.statePath ?? `${dir}/state.db`);
  const deviceId = options.deviceId ?? crypto.randomUUID();
  const received: StateEvent[] = [];
  const logs: string[] = [];
  const bus = createEventBus({
    natsUrl: options.natsUrl,
    nats: options.nats ?? {},
    deviceId,
    state,
    log: (level, message) => logs.push(`${level}: ${message}`),
    maxBackoffMs: TEST_MAX_BACKOFF_MS,
    keys: options.keys,
  });
  if (options.receive ?? true) {
    bus.onEvent((event) => {
      received.push(event);
      return Promise.resolve();
    });
  }
  const testBus: TestBus = {
    bus,
    deviceId,
    state,
    received,
    hints: 0,
    logs,
    async [Symbol.asyncDispose]() {
      await bus.close(0);
      state.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
  bus.onHint(() => testBus.hints++);
  return testBus;
}

/**
 * A `file_synced` event from `deviceId` about `f<n>.txt`.
 *
 * @example
 * ```ts
 * bus.publish(testEvent(deviceId, 7));
 * ```
 */
export function testEvent(deviceId: string, n: number): StateEvent {
  return {
    id: crypto.randomUUID(),
    type: "file_synced",
    device_id: deviceId,
    device_name: "test-device",
    timestamp: new Date().toISOString(),
    namespace: "default",
    path: `f${n}.txt`,
    vclock: { [deviceId]: n },
  };
}

/**
 * Polls `condition` every 20 ms until it holds; fails naming `what` after `timeoutMs`.
 *
 * @example
 * ```ts
 * await waitFor(() => b.received.length === 1, "B receives the event");
 * ```
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Waits `ms`, for checks that something does NOT happen.
 *
 * @example
 * ```ts
 * await settle(500);
 * ```
 */
export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
