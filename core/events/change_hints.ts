/**
 * Change hints for a process that reads the store without the daemon (`tcfs mount` run on its
 * own): a plain NATS subscription to the fleet's state events. An event only says "look again",
 * so nothing of it is read, and it needs no stream, consumer or keys: a sealed fleet's events
 * serve as well. Polling stays the fallback; while NATS is unreachable, connecting is tried
 * again every {@linkcode RECONNECT_MS}, and once connected nats.js reconnects by itself.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/transport-node";
import type { NatsConfig } from "../config/config_schema.ts";
import { describeError } from "../errors.ts";
import { redactUrlCredentials } from "../config/url_credentials.ts";
import { natsConnectOptions } from "./nats_connect_options.ts";
import { connectNats } from "./nats_transport.ts";
import { deviceSubjectPrefix } from "./state_event.ts";

/** Between attempts to connect while NATS is unreachable. */
const RECONNECT_MS = 30_000;

/** Every device's state events. */
const ALL_STATE_EVENTS = "STATE.>";

/** What {@linkcode watchChangeHints} needs. */
export interface ChangeHintOptions {
  /** `[sync] nats_url`: one URL, or several comma-separated. */
  natsUrl: string;
  nats: NatsConfig;
  /** This device: its own events are no news. */
  deviceId: string;
  /** Called for each event another device announces. */
  onChange: () => void;
  log: (message: string) => void;
}

/**
 * Calls `onChange` whenever another device announces a change, until closed.
 *
 * @example
 * ```ts
 * const hints = watchChangeHints({ natsUrl, nats, deviceId, onChange: mount.refreshSoon, log });
 * await hints.close();
 * ```
 */
export function watchChangeHints(options: ChangeHintOptions): { close(): Promise<void> } {
  const shown = redactUrlCredentials(options.natsUrl);
  const own = deviceSubjectPrefix(options.deviceId);
  let closed = false;
  let connection: NatsConnection | undefined;
  let wake: () => void = () => {};
  const connecting = (async () => {
    let reported = false;
    while (!closed) {
      try {
        connection = await connectNats({
          ...await natsConnectOptions(options.natsUrl, options.nats),
          name: `tcfs-mount-${options.deviceId}`,
        });
      } catch (err) {
        if (!reported) {
          options.log(
            `no change events: cannot connect to NATS at ${shown} (${describeError(err)}); ` +
              "remote changes show at each poll until it answers",
          );
          reported = true;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, RECONNECT_MS);
        });
        clearTimeout(timer);
        continue;
      }
      if (closed) break;
      connection.subscribe(ALL_STATE_EVENTS, {
        callback: (_err, msg) => {
          if (!msg.subject.startsWith(own)) options.onChange();
        },
      });
      return;
    }
  })();
  return {
    async close() {
      closed = true;
      wake();
      await connecting;
      await connection?.close();
    },
  };
}
