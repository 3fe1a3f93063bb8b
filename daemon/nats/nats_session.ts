/**
 * One NATS configuration brought to life: connecting until it works (forever,
 * with backoff), setting up JetStream on every (re)connection, publishing the
 * outbox and consuming the device's durable consumer. A config reload ends
 * the session and starts a new one; the outbox outlives both.
 *
 * @module
 */

import { errors, type NatsConnection } from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { NatsConfig } from "../../core/config/config_schema.ts";
import { STATE_STREAM, type StateEvent } from "../../core/events/state_event.ts";
import { redactUrlCredentials } from "../../core/config/config_schema.ts";
import { TcfsError } from "../../core/errors.ts";
import { backoffDelayMs } from "./backoff.ts";
import { consumeStateEvents, type EventDelivery, type EventKeys } from "./event_consumer.ts";
import { createEventHandover, type StateEventHandler } from "./event_handover.ts";
import { announceEvent, receiveLiveEvents } from "./live_events.ts";
import type { EventOutbox } from "./event_outbox.ts";
import { natsConnectOptions } from "../../core/events/nats_connect_options.ts";
import { connectNats } from "../../core/events/nats_transport.ts";
import { publishOutbox } from "./outbox_publisher.ts";
import type { ProcessedEvents } from "./processed_events.ts";
import { ensureDeviceConsumer, ensureStateStream, wantedReplicas } from "./state_stream.ts";
import { createWakeSignal } from "./wake_signal.ts";

/** A log function, as the daemon provides it. */
export type EventBusLog = (level: "debug" | "info" | "warning" | "error", message: string) => void;

/** What a session needs. */
export interface NatsSessionOptions {
  natsUrl: string;
  nats: NatsConfig;
  deviceId: string;
  /** Cap on the wait between connection attempts. */
  maxBackoffMs: number;
  outbox: EventOutbox;
  processed: ProcessedEvents;
  /** The handler for other devices' events, once one is registered. */
  handler: () => StateEventHandler | undefined;
  /** Told when an event arrived that can't be read or trusted: look in the store. */
  hint: () => void;
  /** The fleet keys events are sealed and opened with; none in a plaintext fleet. */
  keys?: EventKeys;
  log: EventBusLog;
  /** Called after each event JetStream acknowledged. */
  onPublished: (publishedAt: string) => void;
  /** Called each time nats.js reconnects after losing its server. */
  onReconnect: () => void;
  /** Called each time the state stream's leader is seen to have moved to another server. */
  onLeaderChange: () => void;
}

/** Where the session's stream lives, as JetStream last said. */
export interface StreamPlacement {
  /** The copies the stream keeps (`num_replicas`). */
  replicas: number;
  /** The server holding the stream's leader; unknown outside a cluster. */
  leader?: string;
}

/** A running session. */
export interface NatsSession {
  /** `connected` once the connection is up and the stream is there; else `reconnecting`. */
  state(): "connected" | "reconnecting";
  /** The latest problem, with credentials redacted; cleared when events flow again. */
  lastError(): string | undefined;
  /** The server connected to (`host:port`, as nats.js names it) while connected. */
  connectedServer(): string | undefined;
  /** The state stream's replicas and leader, once seen. */
  stream(): StreamPlacement | undefined;
  /** Tells the session that the outbox or the handler changed. */
  wake(): void;
  /**
   * Sends a live copy of `event`, just queued in the outbox, to the devices connected now
   * (`live_events.ts`); nothing while the connection is down or the keys are unknown.
   */
  announce(event: StateEvent): void;
  /**
   * Stops consuming (waiting for the event being handled), keeps publishing the outbox for
   * up to `drainMs` while connected, then closes the connection.
   */
  close(drainMs: number): Promise<void>;
}

/** How often the publisher looks again whether the fleet keys were read. */
const KEYS_WAIT_MS = 200;

/** Timeout of the connection handshake and of JetStream API requests. */
const REQUEST_TIMEOUT_MS = 5_000;

/**
 * The cap on the wait between attempts to publish or consume while the connection is up: such
 * failures mostly last while a cluster elects a new leader for the stream, and a short wait
 * brings events back within a second of it.
 */
const LIVE_RETRY_CAP_MS = 1_000;

/** How often the stream's placement (replicas, leader) is read again while connected. */
const PLACEMENT_INTERVAL_MS = 10_000;

/**
 * Starts a session for `options.natsUrl`. It never throws: problems show in
 * {@linkcode NatsSession.lastError} and the log, and it keeps trying.
 *
 * @example
 * ```ts
 * const session = startNatsSession({ natsUrl: "nats://127.0.0.1:4222", nats: {}, deviceId,
 *   maxBackoffMs: 10_000, outbox, processed, handler: () => undefined, hint() {}, log, onPublished() {} });
 * await session.close(1000);
 * ```
 */
export function startNatsSession(options: NatsSessionOptions): NatsSession {
  const { deviceId, maxBackoffMs, outbox, log } = options;
  const eventKeys = () => options.keys?.current();
  const server = redactUrlCredentials(options.natsUrl);
  const domainOption = options.nats.domain ? { domain: options.nats.domain } : {};
  // `work` wakes loops waiting for something to do; `connectionChanged` only wakes loops
  // backing off after a failure, so new events don't cut a backoff short.
  const work = createWakeSignal();
  const connectionChanged = createWakeSignal();
  let lastError: string | undefined;
  /** close() began: consume nothing more. */
  let stopping = false;
  /** close() is done draining: every loop leaves. */
  let stopped = false;
  let connecting = false;
  let connection: NatsConnection | undefined;
  /** The connection is up (nats.js is not between servers). */
  let linkUp = false;
  let disconnectedAt = Date.now();
  /** Bumped on every connect, disconnect and reconnect, so loops can tell their run is stale. */
  let epoch = 0;
  /** The stream check of the current epoch: run once, shared by publisher and consumer. */
  let streamCheck: Promise<JetStreamManager> | undefined;
  let streamReady = false;
  let stopConsuming: (() => void) | undefined;
  let consuming: Promise<void> | undefined;
  let connectedServer: string | undefined;
  let placement: StreamPlacement | undefined;
  /** Warnings about the stream already logged: each is logged once per session. */
  const streamWarnings = new Set<string>();
  const liveRetryCapMs = Math.min(maxBackoffMs, LIVE_RETRY_CAP_MS);
  const delivery: EventDelivery = {
    deviceId,
    handOver: createEventHandover(deviceId, options.processed, options.handler),
    hint: options.hint,
    keys: options.keys,
    log,
  };

  function report(context: string, err: unknown): void {
    const text = redactUrlCredentials(`${context}: ${natsErrorText(err)}`);
    log(text === lastError ? "debug" : "warning", text);
    lastError = text;
  }

  function connectionEvent(): void {
    streamCheck = undefined;
    streamReady = false;
    epoch++;
    connectionChanged.wake();
    work.wake();
  }

  function notePlacement(info: StreamInfo): void {
    const next = {
      replicas: info.config.num_replicas || 1,
      ...(info.cluster?.leader ? { leader: info.cluster.leader } : {}),
    };
    if (placement?.leader && next.leader && next.leader !== placement.leader) {
      log("info", `the NATS stream's leader moved from ${placement.leader} to ${next.leader}`);
      options.onLeaderChange();
    }
    placement = next;
  }

  function warnOnce(message: string): void {
    log(streamWarnings.has(message) ? "debug" : "warning", message);
    streamWarnings.add(message);
  }

  function ensureStream(nc: NatsConnection): Promise<JetStreamManager> {
    if (streamCheck) return streamCheck;
    const checkEpoch = epoch;
    const check = (async () => {
      const jsm = await jetstreamManager(nc, { ...domainOption, timeout: REQUEST_TIMEOUT_MS });
      const replicas = wantedReplicas(options.nats.replicas, nc.info);
      notePlacement(await ensureStateStream(jsm, replicas, warnOnce));
      if (epoch === checkEpoch) {
        streamReady = true;
        lastError = undefined;
      }
      return jsm;
    })();
    check.catch(() => {
      if (streamCheck === check) streamCheck = undefined;
    });
    streamCheck = check;
    return check;
  }

  /** Checks the stream on each connection, then publishes the outbox whenever it fills. */
  async function publishLoop(nc: NatsConnection, js: JetStreamClient): Promise<void> {
    let failingSince: number | undefined;
    while (!nc.isClosed() && !stopped) {
      if (!linkUp || (streamReady && outbox.depth() === 0)) {
        await work.wait();
        continue;
      }
      if (options.keys && !options.keys.known()) {
        await work.wait(KEYS_WAIT_MS);
        continue;
      }
      try {
        await ensureStream(nc);
        if (await publishOutbox(js, outbox, eventKeys, options.onPublished) > 0) {
          lastError = undefined;
        }
        failingSince = undefined;
      } catch (err) {
        if (nc.isClosed() || stopped) break;
        report(`publishing state events to NATS at ${server} failed`, err);
        streamCheck = undefined;
        failingSince ??= Date.now();
        await connectionChanged.wait(backoffDelayMs(Date.now() - failingSince, liveRetryCapMs));
      }
    }
  }

  /**
   * Consumes while connected and a handler is registered. nats.js keeps a consumer running
   * across reconnects; it ends when the stream or consumer is gone (a server that came back
   * with an empty store), and then this sets them up again and restarts it.
   */
  async function consumeLoop(nc: NatsConnection, js: JetStreamClient): Promise<void> {
    let failingSince: number | undefined;
    while (!nc.isClosed() && !stopped) {
      const handler = options.handler();
      if (!linkUp || !handler || stopping) {
        await work.wait();
        continue;
      }
      const runEpoch = epoch;
      const run = new AbortController();
      stopConsuming = () => run.abort();
      let failure: unknown = "the consumer stopped";
      try {
        const jsm = await ensureStream(nc);
        await ensureDeviceConsumer(jsm, deviceId);
        failingSince = undefined;
        consuming = consumeStateEvents(js, delivery, run.signal);
        await consuming;
      } catch (err) {
        failure = err;
      } finally {
        consuming = undefined;
        run.abort();
      }
      // Ended after a reconnect (the server lost the stream or consumer), or by close(): start
      // over at once. Otherwise setting up failed, or they vanished under a live connection:
      // back off, then set them up again.
      if (runEpoch !== epoch || nc.isClosed() || stopping) continue;
      report(`consuming state events from NATS at ${server} failed`, failure);
      streamCheck = undefined;
      failingSince ??= Date.now();
      await connectionChanged.wait(backoffDelayMs(Date.now() - failingSince, liveRetryCapMs));
    }
  }

  async function watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      switch (status.type) {
        case "disconnect":
          linkUp = false;
          connectedServer = undefined;
          disconnectedAt = Date.now();
          log("info", `lost the connection to NATS at ${status.server}; reconnecting`);
          connectionEvent();
          break;
        case "reconnect":
          linkUp = true;
          connectedServer = nc.getServer();
          log("info", `reconnected to NATS at ${connectedServer} (of ${server})`);
          options.onReconnect();
          connectionEvent();
          break;
        case "error":
          report(`NATS at ${server} reported an error`, status.error);
          break;
      }
    }
  }

  /** Reads the stream's placement now and then, to see its leader move. */
  async function watchPlacement(nc: NatsConnection): Promise<void> {
    while (!nc.isClosed() && !stopped) {
      await connectionChanged.wait(PLACEMENT_INTERVAL_MS);
      if (!linkUp || !streamReady || nc.isClosed() || stopped) continue;
      try {
        const jsm = await ensureStream(nc);
        notePlacement(await jsm.streams.info(STATE_STREAM));
      } catch (err) {
        log("debug", `reading the NATS stream's placement failed: ${natsErrorText(err)}`);
      }
    }
  }

  async function serveConnection(nc: NatsConnection): Promise<void> {
    linkUp = true;
    connectedServer = nc.getServer();
    log("info", `connected to NATS at ${connectedServer} (of ${server})`);
    connectionEvent();
    const js = jetstream(nc, { ...domainOption, timeout: REQUEST_TIMEOUT_MS });
    // Closes with the connection.
    receiveLiveEvents(nc, delivery, () => !stopping && !!options.handler());
    const loops = Promise.all([
      watchStatus(nc),
      watchPlacement(nc),
      publishLoop(nc, js),
      consumeLoop(nc, js),
    ]);
    const closedBy = await nc.closed();
    linkUp = false;
    connectedServer = undefined;
    if (closedBy && !stopped) report(`the connection to NATS at ${server} closed`, closedBy);
    connectionEvent();
    await loops;
  }

  async function superviseConnection(): Promise<void> {
    let outageStart = Date.now();
    while (!stopped) {
      let nc: NatsConnection;
      connecting = true;
      try {
        nc = await connectNats({
          ...(await natsConnectOptions(options.natsUrl, options.nats)),
          name: `tcfs-${deviceId}`,
          timeout: REQUEST_TIMEOUT_MS,
          reconnectDelayHandler: () => backoffDelayMs(Date.now() - disconnectedAt, maxBackoffMs),
        });
      } catch (err) {
        if (stopped) break;
        report(`cannot connect to NATS at ${server}`, err);
        await connectionChanged.wait(backoffDelayMs(Date.now() - outageStart, maxBackoffMs));
        continue;
      } finally {
        connecting = false;
      }
      if (stopped) {
        await nc.close();
        break;
      }
      connection = nc;
      await serveConnection(nc);
      connection = undefined;
      outageStart = disconnectedAt = Date.now();
    }
  }

  const supervising = superviseConnection();

  return {
    state: () => linkUp && streamReady ? "connected" : "reconnecting",
    lastError: () => lastError,
    connectedServer: () => linkUp ? connectedServer : undefined,
    stream: () => placement,
    wake: () => work.wake(),
    announce(event) {
      const nc = connection;
      if (!nc || !linkUp || stopped || (options.keys && !options.keys.known())) return;
      announceEvent(nc, event, eventKeys()).catch((err) =>
        log("debug", `announcing event ${event.id} failed: ${natsErrorText(err)}`)
      );
    },
    async close(drainMs) {
      stopping = true;
      stopConsuming?.();
      work.wake();
      await consuming?.catch(() => {});
      const deadline = Date.now() + drainMs;
      while (outbox.depth() > 0 && linkUp && Date.now() < deadline) {
        await work.wait(Math.min(50, deadline - Date.now()));
      }
      stopped = true;
      connectionChanged.wake();
      work.wake();
      const nc = connection;
      if (nc && !nc.isClosed()) {
        if (linkUp) await nc.flush().catch(() => {});
        await nc.close();
      }
      // A connect attempt still in its handshake closes its connection itself when it ends.
      if (!connecting) await supervising;
    },
  };
}

function natsErrorText(err: unknown): string {
  if (err instanceof errors.AuthorizationError) {
    return `the server refused the credentials (${err.message}); ` +
      "check [nats] creds_file, user and password, or token";
  }
  if (err instanceof TcfsError && err.hint) return `${err.message}; ${err.hint}`;
  return err instanceof Error ? err.message : String(err);
}
