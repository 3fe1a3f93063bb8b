/**
 * The JetStream stream that stores state events and each device's durable
 * consumer on it, created when missing.
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
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
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

/**
 * Creates the state stream unless it exists. An existing stream is left as it is (an
 * operator may have tuned it); a warning is logged if it does not store the state subjects.
 *
 * @example
 * ```ts
 * await ensureStateStream(await jetstreamManager(nc), (message) => console.warn(message));
 * ```
 */
export async function ensureStateStream(
  jsm: JetStreamManager,
  warn: (message: string) => void,
): Promise<void> {
  try {
    const info = await jsm.streams.info(STATE_STREAM);
    if (!info.config.subjects?.includes(STATE_SUBJECTS)) {
      warn(
        `the NATS stream ${STATE_STREAM} exists but does not store ${STATE_SUBJECTS}; ` +
          `state events may not be delivered`,
      );
    }
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.StreamNotFound)) throw err;
    await jsm.streams.add(STATE_STREAM_CONFIG);
  }
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
