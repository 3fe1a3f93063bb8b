/**
 * The daemon's activity, fanned out to every `GET /v1/events` subscriber as NDJSON: the state
 * events it publishes and receives, and what its sync loop does.
 *
 * @module
 */

import type { ActivityLine } from "./api/api_types.ts";

/** Lines a subscriber may fall behind by before it is cut off (it can reconnect). */
const MAX_QUEUED_LINES = 10_000;

/** Publishes activity to the current subscribers. */
export interface ActivityFeed {
  publish(line: ActivityLine): void;
  /** A new subscription: NDJSON, starting with a `subscribed` line. */
  subscribe(): ReadableStream<Uint8Array>;
  /** How many subscribers are connected. */
  subscribers(): number;
  /** Ends every subscription (at shutdown, so the HTTP server can finish). */
  close(): void;
}

/**
 * Creates a feed with no subscribers.
 *
 * @example
 * ```ts
 * const feed = createActivityFeed();
 * const stream = feed.subscribe();
 * feed.publish({ kind: "sync", at: new Date().toISOString(), operation: "push", outcome: "ok", paths: ["a.txt"] });
 * ```
 */
export function createActivityFeed(): ActivityFeed {
  const encoder = new TextEncoder();
  const subscribers = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, line: ActivityLine) => {
    if ((controller.desiredSize ?? 0) < -MAX_QUEUED_LINES) {
      subscribers.delete(controller);
      controller.error(new Error("the subscriber fell too far behind"));
      return;
    }
    controller.enqueue(encoder.encode(JSON.stringify(line) + "\n"));
  };
  return {
    publish(line) {
      for (const controller of subscribers) send(controller, line);
    },
    subscribe() {
      let self: ReadableStreamDefaultController<Uint8Array>;
      return new ReadableStream<Uint8Array>({
        start(controller) {
          self = controller;
          subscribers.add(controller);
          send(controller, { kind: "subscribed", at: new Date().toISOString() });
        },
        cancel() {
          subscribers.delete(self);
        },
      }, { highWaterMark: 0 });
    },
    subscribers: () => subscribers.size,
    close() {
      for (const controller of subscribers) controller.close();
      subscribers.clear();
    },
  };
}
