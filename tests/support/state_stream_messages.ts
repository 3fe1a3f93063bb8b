/**
 * Every message a NATS server's state stream holds, read back for tests that check what went
 * over the wire.
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { STATE_STREAM } from "../../core/events/state_event.ts";

/** One stored message: its subject and its payload as text. */
export interface StreamMessage {
  subject: string;
  payload: string;
}

/**
 * Reads every message in the state stream of the server at `url`, oldest first.
 *
 * @example
 * ```ts
 * const messages = await stateStreamMessages(nats.url);
 * ```
 */
export async function stateStreamMessages(url: string): Promise<StreamMessage[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(STATE_STREAM);
    const messages: StreamMessage[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      const msg = await jsm.streams.getMessage(STATE_STREAM, { seq });
      if (msg) messages.push({ subject: msg.subject, payload: msg.string() });
    }
    return messages;
  } finally {
    await nc.close();
  }
}
