/**
 * The JetStream stream that stores state events and each device's durable
 * consumer on it, created when missing, with as many replicas as the cluster
 * should keep.
 *
 * @module
 */

import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos, type ServerInfo } from "@nats-io/transport-node";
import { STATE_STREAM } from "../../core/events/state_event.ts";

/** The subjects the stream stores: `STATE.<device_id>.<event_type>`. */
export const STATE_SUBJECTS = "STATE.>";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The stream's settings: file storage, limits retention, events kept 7 days. */
export const STATE_STREAM_CONFIG: Partial<StreamConfig> & Pick<StreamConfig, "name"> = {
  name: STATE_STREAM,
  subjects: [STATE_SUBJECTS],
  storage: StorageType.File,
  retention: RetentionPolicy.Limits,
  max_age: nanos(7 * DAY_MS),
  // A re-publish of the same event id within this window is stored once.
  duplicate_window: nanos(2 * 60 * 1000),
};

/**
 * The name of a device's durable consumer.
 *
 * @example
 * ```ts
 * deviceConsumerName("5f0c…"); // "tcfs-5f0c…"
 * ```
 */
export function deviceConsumerName(deviceId: string): string {
  return `tcfs-${deviceId}`;
}

/**
 * A device's durable consumer: every event in the stream, acknowledged one by one,
 * redelivered when not acknowledged within 30 s.
 *
 * @example
 * ```ts
 * await jsm.consumers.add(STATE_STREAM, deviceConsumerConfig(deviceId));
 * ```
 */
export function deviceConsumerConfig(deviceId: string): Partial<ConsumerConfig> {
  return {
    durable_name: deviceConsumerName(deviceId),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    deliver_policy: DeliverPolicy.All,
    filter_subject: STATE_SUBJECTS,
  };
}

/** Servers in a cluster from which the stream is kept in 3 copies by default. */
const CLUSTER_REPLICAS = 3;

/**
 * The replicas to ask for: `[nats] replicas` when set, else 3 when the server connected to
 * reports at least 3 servers in its cluster (its `connect_urls`, which the cluster's gossip
 * fills), else 1. A leaf node in its own JetStream domain reports only itself.
 *
 * @example
 * ```ts
 * wantedReplicas(undefined, nc.info); // 3 on a 3-node cluster, 1 on a lone server
 * ```
 */
export function wantedReplicas(
  configured: number | undefined,
  server: Pick<ServerInfo, "cluster" | "connect_urls"> | undefined,
): number {
  if (configured !== undefined) return configured;
  const servers = server?.cluster ? server.connect_urls?.length ?? 1 : 1;
  return servers >= CLUSTER_REPLICAS ? CLUSTER_REPLICAS : 1;
}

/**
 * Creates the state stream with `replicas` copies unless it exists. An existing stream is
 * otherwise left as it is (an operator may have tuned it), but one with fewer replicas is
 * raised to `replicas` (its consumers follow); when the server refuses, `warn` says why and
 * how to fix it, and the stream is used as it is. `warn` also says when the stream does not
 * store the state subjects.
 *
 * @returns the stream's info after the change, if any.
 *
 * @example
 * ```ts
 * await ensureStateStream(await jetstreamManager(nc), 3, (message) => console.warn(message));
 * ```
 */
export async function ensureStateStream(
  jsm: JetStreamManager,
  replicas: number,
  warn: (message: string) => void,
): Promise<StreamInfo> {
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(STATE_STREAM);
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
    return await jsm.streams.add({ ...STATE_STREAM_CONFIG, num_replicas: replicas });
  }
  if (!info.config.subjects?.includes(STATE_SUBJECTS)) {
    warn(
      `the NATS stream ${STATE_STREAM} exists but does not store ${STATE_SUBJECTS}; ` +
        `state events may not be delivered`,
    );
  }
  const current = info.config.num_replicas || 1;
  if (current >= replicas) return info;
  try {
    return await jsm.streams.update(STATE_STREAM, { num_replicas: replicas });
  } catch (err) {
    if (!(err instanceof JetStreamApiError)) throw err;
    warn(raiseRefusedText(current, replicas, err.message));
    return info;
  }
}

/**
 * What to say when the stream could not be raised to `wanted` replicas.
 *
 * @example
 * ```ts
 * raiseRefusedText(1, 3, "insufficient resources");
 * ```
 */
export function raiseRefusedText(current: number, wanted: number, why: string): string {
  return `the NATS stream ${STATE_STREAM} has ${current} replica(s), not the ${wanted} ` +
    `configured, and the server refused to raise it (${why}); losing the server that holds ` +
    `it stops live events: run \`nats stream edit ${STATE_STREAM} --replicas ${wanted}\` once ` +
    `the cluster has ${wanted} JetStream servers up, or set [nats] replicas = ${current}`;
}

/**
 * Creates the device's durable consumer on the state stream unless it exists.
 *
 * @example
 * ```ts
 * await ensureDeviceConsumer(jsm, deviceId);
 * const consumer = await jetstream(nc).consumers.get(STATE_STREAM, deviceConsumerName(deviceId));
 * ```
 */
export async function ensureDeviceConsumer(
  jsm: JetStreamManager,
  deviceId: string,
): Promise<void> {
  try {
    await jsm.consumers.info(STATE_STREAM, deviceConsumerName(deviceId));
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(STATE_STREAM, deviceConsumerConfig(deviceId));
  }
}

function isNotFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}
