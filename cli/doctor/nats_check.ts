/**
 * `tcfs doctor`: can this machine reach NATS, and does JetStream hold the state stream?
 *
 * @module
 */

import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type NatsConfig, redactUrlCredentials } from "../../core/config/config_schema.ts";
import { STATE_STREAM } from "../../core/events/state_event.ts";
import { natsConnectOptions } from "../../core/events/nats_connect_options.ts";
import { connectNats } from "../../core/events/nats_transport.ts";
import { wantedReplicas } from "../../daemon/nats/state_stream.ts";
import { type CheckResult, checkResult } from "./doctor_check.ts";

/** How long connecting and each JetStream request may take. */
const NATS_TIMEOUT_MS = 5_000;

const NAMES = { reachable: "nats reachable", stream: "jetstream stream" } as const;

/**
 * Two results: `nats reachable` (a connection with the configured credentials and TLS to the
 * first server of the list that answers, which it names) and `jetstream stream`
 * (`STATE_UPDATES` exists, with the replicas wanted; a warning with the fix when it has
 * fewer). No NATS URL configured is fine: the daemon then polls the store, and both say so.
 *
 * @param pollIntervalSecs How often the daemon polls without NATS, for the message.
 *
 * @example
 * ```ts
 * const results = await natsChecks(configuredNatsUrl(config, credentials), config.nats, 30);
 * ```
 */
export async function natsChecks(
  natsUrl: string | undefined,
  nats: NatsConfig,
  pollIntervalSecs: number,
): Promise<CheckResult[]> {
  if (!natsUrl) {
    return [
      checkResult(
        NAMES.reachable,
        "ok",
        `not configured: no live events, the daemon polls the store every ${pollIntervalSecs} s`,
      ),
      checkResult(NAMES.stream, "ok", "not applicable without NATS"),
    ];
  }
  const shown = redactUrlCredentials(natsUrl);
  let nc: NatsConnection;
  try {
    nc = await connectNats({
      ...await natsConnectOptions(natsUrl, nats),
      name: "tcfs doctor",
      timeout: NATS_TIMEOUT_MS,
      reconnect: false,
      maxReconnectAttempts: 0,
    });
  } catch (err) {
    return [
      checkResult(
        NAMES.reachable,
        "fail",
        `cannot connect to NATS at ${shown}: ${redactUrlCredentials((err as Error).message)}`,
        "check [sync] nats_url (or TCFS_NATS_URL), that nats-server runs there, its port is " +
          "reachable from here, and the [nats] credentials",
      ),
      checkResult(
        NAMES.stream,
        "warn",
        "not checked: NATS is not reachable",
        "fix the failure above first",
      ),
    ];
  }
  try {
    const reachable = checkResult(
      NAMES.reachable,
      "ok",
      `connected to nats://${nc.getServer()} (server ${nc.info?.server_name ?? "?"}` +
        (shown.includes(",") ? `; first to answer of ${shown})` : ")"),
    );
    return [reachable, await streamCheck(nc, nats)];
  } finally {
    await nc.close().catch(() => {});
  }
}

async function streamCheck(nc: NatsConnection, nats: NatsConfig): Promise<CheckResult> {
  const domain = nats.domain;
  try {
    const jsm = await jetstreamManager(nc, { timeout: NATS_TIMEOUT_MS, ...(domain && { domain }) });
    const info = await jsm.streams.info(STATE_STREAM);
    const replicas = info.config.num_replicas || 1;
    const wanted = wantedReplicas(nats.replicas, nc.info);
    const held =
      `${STATE_STREAM} holds ${info.state.messages} events (subjects ${
        info.config.subjects?.join(", ")
      }; ${replicas} replica${replicas === 1 ? "" : "s"}` +
      (info.cluster?.leader ? `, leader on ${info.cluster.leader})` : ")");
    if (replicas < wanted) {
      return checkResult(
        NAMES.stream,
        "warn",
        `${held}, not the ${wanted} wanted: losing the server that holds it stops live events`,
        `the daemon raises it when it connects; if the server refuses, run \`nats stream edit ` +
          `${STATE_STREAM} --replicas ${wanted}\` once ${wanted} JetStream servers are up, ` +
          `or set [nats] replicas = ${replicas}`,
      );
    }
    return checkResult(NAMES.stream, "ok", held);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
      return checkResult(
        NAMES.stream,
        "warn",
        `the stream ${STATE_STREAM} does not exist yet`,
        "start the daemon (`tcfs daemon`, or `systemctl --user start tcfsd`): it creates the stream when it connects",
      );
    }
    const message = (err as Error).message;
    return checkResult(
      NAMES.stream,
      "fail",
      `JetStream does not answer${domain ? ` in domain "${domain}"` : ""}: ${message}`,
      "enable JetStream on the server (nats-server -js, or a jetstream {} block in its config)" +
        (domain ? " and check [nats] domain" : ""),
    );
  }
}
