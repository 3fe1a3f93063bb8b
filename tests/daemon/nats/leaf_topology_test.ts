import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { STATE_STREAM } from "../../../core/events/state_event.ts";
import { freePorts } from "../../support/free_port.ts";
import { startNatsServer } from "../../support/nats_process.ts";
import { startTestBus, testEvent, waitFor } from "./event_bus_fixture.ts";

/** Whether the JetStream domain `domain`, seen from the server at `url`, has the state stream. */
async function hasStateStream(url: string, domain: string): Promise<boolean> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc, { domain });
    return await jsm.streams.info(STATE_STREAM).then(() => true, () => false);
  } finally {
    await nc.close();
  }
}

async function leafConnections(monitorUrl: string): Promise<number> {
  const response = await fetch(`${monitorUrl}/leafz`);
  const body = await response.json() as { leafnodes?: number };
  return body.leafnodes ?? 0;
}

Deno.test("devices on a leaf node with its own JetStream domain keep exchanging events without the hub", async () => {
  const [leafPort] = freePorts(1);
  await using hub = await startNatsServer({
    jetstreamDomain: "hub",
    config: `leafnodes { listen: "127.0.0.1:${leafPort}" }`,
  });
  await using leaf = await startNatsServer({
    jetstreamDomain: "leaf1",
    config: `leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }`,
  });
  await waitFor(
    async () => await leafConnections(hub.monitorUrl) === 1,
    "the leaf links to the hub",
    10_000,
  );

  const nats = { domain: "leaf1" };
  await using a = await startTestBus({ natsUrl: leaf.url, nats });
  await using b = await startTestBus({ natsUrl: leaf.url, nats });
  const before = testEvent(a.deviceId, 1);
  a.bus.publish(before);
  await waitFor(() => b.received.length === 1, "B receives the event through the leaf");
  assert.ok(await hasStateStream(leaf.url, "leaf1"), "the stream lives in the leaf's domain");
  assert.ok(!await hasStateStream(leaf.url, "hub"), "and not in the hub's");

  await hub.stop();
  // The leaf notices the hub's exit a moment later.
  await waitFor(
    async () => await leafConnections(leaf.monitorUrl) === 0,
    "the leaf's link to the hub is down",
  );
  const during = [testEvent(a.deviceId, 2), testEvent(b.deviceId, 3)];
  a.bus.publish(during[0]);
  b.bus.publish(during[1]);
  await waitFor(() => b.received.length === 2, "B receives A's event with the hub down");
  await waitFor(() => a.received.length === 1, "A receives B's event with the hub down");
  assert.deepEqual(b.received, [before, during[0]]);
  assert.deepEqual(a.received, [during[1]]);
  assert.equal(a.bus.status().state, "connected");

  // The domain option is what points the buses at the leaf's JetStream: the hub's is gone.
  await using hubDomain = await startTestBus({ natsUrl: leaf.url, nats: { domain: "hub" } });
  await waitFor(() => hubDomain.bus.status().lastError !== undefined, "the hub's domain fails");
  assert.equal(hubDomain.bus.status().state, "reconnecting");
});
