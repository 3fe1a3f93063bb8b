import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { StateEvent } from "../../../core/events/state_event.ts";
import { STATE_STREAM, stateEventSubject } from "../../../core/events/state_event.ts";
import { deviceConsumerName } from "../../../daemon/nats/state_stream.ts";
import { startNatsServer } from "../../support/nats_process.ts";
import { settle, startTestBus, testEvent, waitFor } from "./event_bus_fixture.ts";

/** Publishes straight to JetStream, as another (possibly broken or hostile) client would. */
async function withClient(url: string, use: (nc: NatsConnection) => Promise<void>) {
  const nc = await connect({ servers: url });
  try {
    await use(nc);
  } finally {
    await nc.close();
  }
}

Deno.test("a rejected handler gets the event again later, and it is handled once it succeeds", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url, receive: false });
  await waitFor(() => a.bus.status().state === "connected", "A is connected");
  const attempts: number[] = [];
  const handled: StateEvent[] = [];
  b.bus.onEvent((event) => {
    attempts.push(Date.now());
    // Two failures: the live copy and the durable one may each take one, in either order;
    // only the durable copy is redelivered.
    if (attempts.length <= 2) return Promise.reject(new Error("store unreachable"));
    handled.push(event);
    return Promise.resolve();
  });
  const event = testEvent(a.deviceId, 1);
  a.bus.publish(event);

  await waitFor(() => handled.length === 1, "the event is handled on the third attempt");
  assert.ok(attempts[2] - attempts[1] >= 900, "the redelivery waits about a second");
  assert.deepEqual(handled, [event]);
  assert.ok(b.logs.some((line) => line.includes("store unreachable")), "the failure is logged");
  await settle(1500);
  assert.equal(attempts.length, 3, "no delivery after the successful one");
});

Deno.test("an event id seen before is handled once, even when the stream holds it twice", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url });
  await waitFor(() => a.bus.status().state === "connected", "A creates the stream");
  const event = testEvent(a.deviceId, 1);
  await withClient(nats.url, async (nc) => {
    const js = jetstream(nc);
    // Different message ids defeat the stream's own deduplication, as a re-publish after
    // the duplicate window would.
    await js.publish(stateEventSubject(event), JSON.stringify(event), { msgID: "copy-1" });
    await js.publish(stateEventSubject(event), JSON.stringify(event), { msgID: "copy-2" });
    await js.publish(stateEventSubject(event), JSON.stringify(testEvent(a.deviceId, 2)));
  });
  await waitFor(() => b.received.length === 2, "B handles the event and the next one");
  await settle(500);
  assert.deepEqual(b.received.map((e) => e.path), ["f1.txt", "f2.txt"]);
});

Deno.test("invalid or forged events are dropped and do not block the ones after them", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url });
  await waitFor(() => a.bus.status().state === "connected", "A creates the stream");
  const forged = { ...testEvent(a.deviceId, 1), device_id: crypto.randomUUID() };
  const unknownType = { ...testEvent(a.deviceId, 2), type: "file_exploded" };
  await withClient(nats.url, async (nc) => {
    const js = jetstream(nc);
    const subject = `STATE.${a.deviceId}.file_synced`;
    await js.publish(subject, "not json");
    await js.publish(subject, JSON.stringify(forged));
    await js.publish(`STATE.${a.deviceId}.file_exploded`, JSON.stringify(unknownType));
    await js.publish(subject, JSON.stringify({ ...testEvent(a.deviceId, 3), path: 7 }));
  });
  const valid = testEvent(a.deviceId, 4);
  a.bus.publish(valid);
  await waitFor(() => b.received.length === 1, "B receives the valid event");
  await settle(500);
  assert.deepEqual(b.received, [valid]);
  const warnings = b.logs.filter((line) => line.startsWith("warning: ignoring an invalid"));
  assert.equal(warnings.length, 4, warnings.join("\n"));
});

Deno.test("events wait in the stream for a device that is offline, and arrive when it returns", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  const dir = await Deno.makeTempDir({ prefix: "tcfs-test-device-" });
  try {
    const statePath = `${dir}/state.db`;
    const first = await startTestBus({ natsUrl: nats.url, statePath });
    await waitFor(() => first.bus.status().state === "connected", "B connects");
    const before = testEvent(a.deviceId, 1);
    a.bus.publish(before);
    await waitFor(() => first.received.length === 1, "B receives the first event");
    await first[Symbol.asyncDispose]();

    const whileAway = [testEvent(a.deviceId, 2), testEvent(a.deviceId, 3)];
    for (const event of whileAway) a.bus.publish(event);
    await waitFor(() => a.bus.status().outboxDepth === 0, "A publishes while B is away");

    // Same device id and state db: the durable consumer resumes where B left off.
    await using again = await startTestBus({
      natsUrl: nats.url,
      statePath,
      deviceId: first.deviceId,
    });
    await waitFor(() => again.received.length === 2, "B receives what it missed");
    await settle(500);
    assert.deepEqual(again.received, whileAway);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a device that stops mid-stream gets the rest within seconds and in order when it restarts", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  const dir = await Deno.makeTempDir({ prefix: "tcfs-test-device-" });
  try {
    const statePath = `${dir}/state.db`;
    const first = await startTestBus({ natsUrl: nats.url, statePath, receive: false });
    const handled: StateEvent[] = [];
    first.bus.onEvent(async (event) => {
      handled.push(event);
      await settle(50);
    });
    const events = Array.from({ length: 20 }, (_, i) => testEvent(a.deviceId, i + 1));
    for (const event of events) a.bus.publish(event);
    await waitFor(() => handled.length >= 3, "B handles a few events");
    await first[Symbol.asyncDispose]();
    const handledBefore = handled.length;
    assert.ok(handledBefore < 20, "B stopped before the end of the stream");

    // Sooner than the consumer's 30 s ack wait: what B had pulled but not handled was handed back.
    await using again = await startTestBus({
      natsUrl: nats.url,
      statePath,
      deviceId: first.deviceId,
    });
    await waitFor(() => handledBefore + again.received.length === 20, "B gets the rest", 15_000);
    assert.deepEqual([...handled, ...again.received].map((e) => e.id), events.map((e) => e.id));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a consumer deleted under a live connection is created again and delivery resumes", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url });
  await using b = await startTestBus({ natsUrl: nats.url });
  a.bus.publish(testEvent(a.deviceId, 1));
  await waitFor(() => b.received.length === 1, "B receives the first event");

  await withClient(nats.url, async (nc) => {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(STATE_STREAM, deviceConsumerName(b.deviceId));
  });
  await waitFor(
    () => b.logs.some((line) => line.includes("consuming state events")),
    "B notices its consumer is gone",
  );
  const after = testEvent(a.deviceId, 2);
  a.bus.publish(after);
  await waitFor(() => b.received.length >= 2, "B receives an event after the consumer is back");
  // The new consumer delivers the stream from the start; the first event was handled already.
  await settle(500);
  assert.deepEqual(b.received.map((e) => e.path), ["f1.txt", "f2.txt"]);
});
