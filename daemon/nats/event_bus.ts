/**
 * The daemon's event transport: state events go out through a durable outbox
 * to NATS JetStream, and other devices' events come in from this device's
 * durable consumer. NATS is optional and may come and go; the bus never makes
 * the daemon wait for it or fail because of it.
 *
 * @module
 */

import type { NatsConfig } from "../../core/config/config_schema.ts";
import { redactUrlCredentials } from "../../core/config/config_schema.ts";
import type { StateEvent } from "../../core/events/state_event.ts";
import type { StateDb } from "../../core/state/state_db.ts";
import { DEFAULT_MAX_BACKOFF_MS } from "./backoff.ts";
import type { EventKeys } from "./event_consumer.ts";
import type { StateEventHandler } from "./event_handover.ts";
import { openEventOutbox, OUTBOX_LIMIT } from "./event_outbox.ts";
import {
  type EventBusLog,
  type NatsSession,
  startNatsSession,
  type StreamPlacement,
} from "./nats_session.ts";
import { openProcessedEvents } from "./processed_events.ts";

/** What `tcfs status` and the metrics show about NATS. */
export interface EventBusStatus {
  /**
   * `connected`: the connection is up and the stream exists, so events flow.
   * `reconnecting`: NATS is configured but not (yet) usable; see `lastError`.
   * `disabled`: no NATS URL is configured.
   */
  state: "connected" | "reconnecting" | "disabled";
  /** The configured NATS URL (one server or several), credentials redacted. */
  server?: string;
  /** The server connected to (`host:port`), while connected. */
  connectedServer?: string;
  /** The state stream's replicas and leader, as last seen. */
  stream?: StreamPlacement;
  /** Reconnections to NATS since the daemon started (each server lost and another reached). */
  reconnects: number;
  /** Moves of the state stream's leader to another server seen since the daemon started. */
  streamLeaderChanges: number;
  /** Events waiting in the outbox. */
  outboxDepth: number;
  /** The latest problem, credentials redacted; cleared once events flow again. */
  lastError?: string;
  /** When JetStream last acknowledged an event from this device (ISO 8601). */
  lastPublishedAt?: string;
}

/** What {@linkcode createEventBus} needs. */
export interface EventBusOptions {
  /** `[sync] nats_url`; without it the bus is disabled. */
  natsUrl?: string;
  nats: NatsConfig;
  deviceId: string;
  /** The state db; the bus keeps its outbox and the handled-event ids there. */
  state: StateDb;
  /**
   * The fleet keys, when this device holds them: events are then published sealed, and only
   * sealed events from other devices are read (`sealed_event_payload.ts`).
   */
  keys?: EventKeys;
  log: EventBusLog;
  /** reconnect backoff cap, ms */
  maxBackoffMs?: number;
}

/** The event transport; see {@linkcode createEventBus}. */
export interface EventBus {
  /**
   * Appends to the durable outbox (same sqlite db) and wakes the drainer. Never throws
   * because NATS is down.
   */
  publish(event: StateEvent): void;
  /**
   * Registers the handler for OTHER devices' events (own events are acked and skipped).
   * The message is acked only after the handler resolves; a rejected handler → nak with
   * delay. Duplicate event ids (redelivery) are dropped using a processed-ids table with a
   * bounded size.
   */
  onEvent(handler: (event: StateEvent) => Promise<void>): void;
  /**
   * Registers what to do about an event that arrived but can't be read or trusted (sealed
   * with a key this device lacks, damaged, or plaintext in an encrypted fleet): something
   * changed, the store says what. It is acknowledged, never redelivered.
   */
  onHint(hint: () => void): void;
  /** The current state, for `tcfs status` and the metrics. */
  status(): EventBusStatus;
  /**
   * Rebuilds the connection with new options (rotated creds, new URL) without losing
   * outbox entries.
   */
  reload(options: Pick<EventBusOptions, "natsUrl" | "nats">): Promise<void>;
  /**
   * Stops consuming (waiting for the event being handled), tries to drain the outbox for
   * up to `drainMs` while connected, closes. Undrained events stay in the outbox for the
   * next start.
   */
  close(drainMs?: number): Promise<void>;
}

/** How long {@linkcode EventBus.close} keeps publishing the outbox by default. */
export const DEFAULT_CLOSE_DRAIN_MS = 3_000;

/**
 * Creates the event bus and, when a NATS URL is configured, starts connecting in the
 * background: a daemon starts whether or not NATS is up, and the bus connects when it
 * appears, retrying forever with backoff (up to `maxBackoffMs`, default 10 s).
 *
 * - Without a NATS URL the bus is `disabled`: published events are dropped (logged at debug
 *   level) rather than piling up in an outbox nobody drains; other devices see the changes
 *   by polling the store. Events already in the outbox stay for when NATS is configured.
 * - While NATS is down, events wait in the outbox, up to {@linkcode OUTBOX_LIMIT} (then
 *   the oldest are dropped with a warning: events are hints, the store has the truth).
 * - Events reach the handler only once it is registered, in stream order; those not
 *   acknowledged within 30 s are redelivered.
 *
 * @example
 * ```ts
 * const bus = createEventBus({ natsUrl: "nats://yoga.local:4222", nats: {}, deviceId, state, log });
 * bus.onEvent(async (event) => await pullPath(event.namespace, event.path));
 * bus.publish({ id: crypto.randomUUID(), type: "device_online", device_id: deviceId,
 *   device_name: "yoga", timestamp: new Date().toISOString() });
 * await bus.close();
 * ```
 */
export function createEventBus(options: EventBusOptions): EventBus {
  const { deviceId, log } = options;
  const outbox = openEventOutbox(options.state.database);
  const processed = openProcessedEvents(options.state.database);
  let settings: Pick<EventBusOptions, "natsUrl" | "nats"> = options;
  let handler: StateEventHandler | undefined;
  let hint: (() => void) | undefined;
  let lastPublishedAt: string | undefined;
  let reconnects = 0;
  let streamLeaderChanges = 0;
  let session = startSession();
  // reload() and close() replace the session one at a time, in call order.
  let sessionChange = Promise.resolve();

  function startSession(): NatsSession | undefined {
    if (!settings.natsUrl) {
      log("info", "NATS is not configured: no live events; other devices poll the store");
      return undefined;
    }
    return startNatsSession({
      natsUrl: settings.natsUrl,
      nats: settings.nats,
      deviceId,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      outbox,
      processed,
      handler: () => handler,
      hint: () => hint?.(),
      keys: options.keys,
      log,
      onPublished: (at) => lastPublishedAt = at,
      onReconnect: () => reconnects++,
      onLeaderChange: () => streamLeaderChanges++,
    });
  }

  function changeSession(change: () => Promise<void>): Promise<void> {
    sessionChange = sessionChange.then(change);
    return sessionChange;
  }

  return {
    publish(event) {
      if (!settings.natsUrl) {
        log("debug", `NATS is not configured: dropping ${event.type} event ${event.id}`);
        return;
      }
      const dropped = outbox.add(event);
      if (dropped > 0) {
        log(
          "warning",
          `the event outbox holds ${OUTBOX_LIMIT} events: dropped the ${dropped} oldest`,
        );
      }
      session?.wake();
      session?.announce(event);
    },
    onEvent(next) {
      handler = next;
      session?.wake();
    },
    onHint(next) {
      hint = next;
    },
    status() {
      const outboxDepth = outbox.depth();
      const counts = { reconnects, streamLeaderChanges };
      if (!settings.natsUrl) return { state: "disabled", outboxDepth, lastPublishedAt, ...counts };
      const connectedServer = session?.connectedServer();
      const stream = session?.stream();
      return {
        state: session?.state() ?? "reconnecting",
        server: redactUrlCredentials(settings.natsUrl),
        ...(connectedServer ? { connectedServer } : {}),
        ...(stream ? { stream } : {}),
        ...counts,
        outboxDepth,
        lastError: session?.lastError(),
        lastPublishedAt,
      };
    },
    reload(next) {
      return changeSession(async () => {
        await session?.close(0);
        settings = { natsUrl: next.natsUrl, nats: next.nats };
        session = startSession();
      });
    },
    close(drainMs = DEFAULT_CLOSE_DRAIN_MS) {
      return changeSession(async () => {
        await session?.close(drainMs);
        session = undefined;
      });
    },
  };
}
