import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { STATE_STREAM } from "../../../core/events/state_event.ts";
import { startNatsServer } from "../../support/nats_process.ts";
import { settle, startTestBus, testEvent, waitFor } from "./event_bus_fixture.ts";

Deno.test("an event reaches a connected device live while the stream cannot take it, and once", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url });
  await waitFor(() => a.bus.status().state === "connected", "A creates the stream");
  await waitFor(() => b.bus.status().state === "connected", "B is connected");
  // A sealed stream refuses every publish, as a cluster electing the stream's leader does.
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STATE_STREAM);
    // nats.js has no typed field for it; the API takes it as any client would send it.
    const reply = await nc.request(
      `$JS.API.STREAM.UPDATE.${STATE_STREAM}`,
      JSON.stringify({ ...info.config, sealed: true }),
    );
    assert.equal(reply.json<{ config?: { sealed?: boolean } }>().config?.sealed, true);
  } finally {
    await nc.close();
  }
  const event = testEvent(a.deviceId, 1);
  a.bus.publish(event);
  await waitFor(() => b.received.length === 1, "B receives the event live");
  assert.deepEqual(b.received, [event]);
  assert.equal(a.bus.status().outboxDepth, 1, "the stream never took it: it came live");
  await settle(1000);
  assert.equal(b.received.length, 1, "handled once");
  assert.deepEqual(a.received, [], "a device never handles its own announcement");
});
