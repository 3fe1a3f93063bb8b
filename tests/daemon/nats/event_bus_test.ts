import assert from "node:assert/strict";
import { startNatsServer } from "../../support/nats_process.ts";
import { settle, startTestBus, testEvent, waitFor } from "./event_bus_fixture.ts";

Deno.test("an event reaches another device exactly once and never its own publisher", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url });
  await waitFor(() => a.bus.status().state === "connected", "A connects");
  await waitFor(() => b.bus.status().state === "connected", "B connects");

  const event = testEvent(a.deviceId, 1);
  a.bus.publish(event);

  await waitFor(() => b.received.length === 1, "B receives the event");
  await waitFor(() => a.bus.status().outboxDepth === 0, "A's outbox drains");
  await settle(500);
  assert.deepEqual(b.received, [event]);
  assert.deepEqual(a.received, []);
  const status = a.bus.status();
  assert.equal(status.state, "connected");
  assert.equal(status.server, nats.url);
  assert.ok(status.lastPublishedAt, "lastPublishedAt is set after an acknowledged publish");
});

Deno.test("events published during an outage wait in the outbox and arrive once, in order", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url });
  await waitFor(() => a.bus.status().state === "connected", "A connects");
  await waitFor(() => b.bus.status().state === "connected", "B connects");

  await nats.stop();
  await waitFor(() => a.bus.status().state === "reconnecting", "A notices the outage");
  const events = Array.from({ length: 20 }, (_, i) => testEvent(a.deviceId, i + 1));
  for (const event of events) a.bus.publish(event);
  assert.equal(a.bus.status().outboxDepth, 20);
  assert.equal(a.bus.status().state, "reconnecting");

  await nats.restart();
  await waitFor(() => a.bus.status().outboxDepth === 0, "A's outbox drains after the restart");
  await waitFor(() => b.received.length === 20, "B receives all 20 events");
  await settle(500);
  assert.deepEqual(b.received.map((e) => e.id), events.map((e) => e.id));
  assert.equal(a.bus.status().state, "connected");
});

Deno.test("a bus started while NATS is down connects when it comes up", async () => {
  await using nats = await startNatsServer();
  await nats.stop();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url });
  const event = testEvent(a.deviceId, 1);
  a.bus.publish(event);
  await settle(500);
  const down = a.bus.status();
  assert.equal(down.state, "reconnecting");
  assert.equal(down.outboxDepth, 1);
  assert.match(down.lastError ?? "", /cannot connect to NATS/);

  await nats.restart();
  await waitFor(() => b.received.length === 1, "B receives the event once NATS is up");
  assert.deepEqual(b.received, [event]);
  assert.equal(a.bus.status().state, "connected");
  assert.equal(a.bus.status().lastError, undefined);
});

Deno.test("without a NATS URL the bus is disabled and keeps no outbox", async () => {
  await using a = await startTestBus({});
  a.bus.publish(testEvent(a.deviceId, 1));
  assert.deepEqual(a.bus.status(), {
    state: "disabled",
    outboxDepth: 0,
    lastPublishedAt: undefined,
    reconnects: 0,
    streamLeaderChanges: 0,
  });
});

Deno.test("reload() moves to another server and publishes what waited in the outbox there", async () => {
  await using first = await startNatsServer();
  await using second = await startNatsServer();
  await using a = await startTestBus({ natsUrl: first.url });
  await using b = await startTestBus({ natsUrl: second.url });
  await waitFor(() => a.bus.status().state === "connected", "A connects to the first server");

  await first.stop();
  await waitFor(
    () => a.bus.status().state === "reconnecting",
    "A notices the first server is gone",
  );
  const events = Array.from({ length: 5 }, (_, i) => testEvent(a.deviceId, i + 1));
  for (const event of events) a.bus.publish(event);
  assert.equal(a.bus.status().outboxDepth, 5);

  await a.bus.reload({ natsUrl: second.url, nats: {} });
  assert.equal(a.bus.status().server, second.url);
  await waitFor(() => b.received.length === 5, "B, on the second server, receives all 5");
  assert.deepEqual(b.received.map((e) => e.id), events.map((e) => e.id));
  assert.equal(a.bus.status().outboxDepth, 0);

  await a.bus.reload({ natsUrl: undefined, nats: {} });
  assert.equal(a.bus.status().state, "disabled");
});

Deno.test("close() publishes what is in the outbox before it returns", async () => {
  await using nats = await startNatsServer();
  await using b = await startTestBus({ natsUrl: nats.url });
  const a = await startTestBus({ natsUrl: nats.url, receive: false });
  try {
    await waitFor(() => a.bus.status().state === "connected", "A connects");
    const events = Array.from({ length: 50 }, (_, i) => testEvent(a.deviceId, i + 1));
    for (const event of events) a.bus.publish(event);
    await a.bus.close(5_000);
    assert.equal(a.bus.status().outboxDepth, 0);
  } finally {
    await a[Symbol.asyncDispose]();
  }
  await waitFor(() => b.received.length === 50, "B receives all 50");
});

Deno.test("a server that comes back with an empty store gets the stream and consumers again", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url });
  a.bus.publish(testEvent(a.deviceId, 1));
  await waitFor(() => b.received.length === 1, "B receives the first event");

  await nats.stop();
  await Deno.remove(nats.storeDir, { recursive: true });
  await nats.restart();
  const after = testEvent(a.deviceId, 2);
  a.bus.publish(after);
  await waitFor(() => b.received.length === 2, "B receives an event published after the loss");
  assert.deepEqual(b.received[1], after);
});
