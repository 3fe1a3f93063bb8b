import assert from "node:assert/strict";
import { stateStreamMessages } from "../../support/state_stream_messages.ts";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { stateEventSubject } from "../../../core/events/state_event.ts";
import { firstKeychain, nextEpoch } from "../../../core/crypto/fleet_keychain.ts";
import { type FleetKeys, fleetKeysOf } from "../../../core/crypto/fleet_keys.ts";
import type { EventKeys } from "../../../daemon/nats/event_consumer.ts";
import { eventPayload } from "../../../daemon/nats/sealed_event_payload.ts";
import { startNatsServer } from "../../support/nats_process.ts";
import { settle, startTestBus, testEvent, waitFor } from "./event_bus_fixture.ts";
import { TEST_RECIPIENT } from "../../support/test_fleet_keys.ts";

const FOUNDER = "00000000-0000-4000-8000-000000000001";

/** Epoch 1 and epoch 2 of one fleet (epoch 2's keychain holds both keys). */
async function fleetEpochs(): Promise<[FleetKeys, FleetKeys]> {
  const first = firstKeychain(FOUNDER, TEST_RECIPIENT, undefined);
  return [await fleetKeysOf(first), await fleetKeysOf(nextEpoch(first, FOUNDER, () => true))];
}

function heldKeys(
  keys: FleetKeys | undefined,
  newer?: FleetKeys,
): EventKeys & { refreshes: number } {
  const held = {
    refreshes: 0,
    current: () => keys,
    known: () => true,
    refresh() {
      held.refreshes++;
      keys = newer ?? keys;
      return Promise.resolve(keys);
    },
  };
  return held;
}

async function withClient<T>(url: string, use: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: url });
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

Deno.test("events between devices holding the fleet keys cross NATS sealed, and arrive whole", async () => {
  await using nats = await startNatsServer();
  const [keys] = await fleetEpochs();
  await using a = await startTestBus({ natsUrl: nats.url, keys: heldKeys(keys) });
  await using b = await startTestBus({ natsUrl: nats.url, keys: heldKeys(keys) });
  const event = { ...testEvent(a.deviceId, 1), path: "secret-plans/merger.txt" };
  a.bus.publish(event);
  await waitFor(() => b.received.length === 1, "B receives the event");
  assert.deepEqual(b.received, [event]);

  const messages = await stateStreamMessages(nats.url);
  const sent = messages.find((m) => m.subject === stateEventSubject(event));
  assert.ok(sent, "the event is in the stream");
  assert.deepEqual(Object.keys(JSON.parse(sent.payload)), ["sealed"]);
  for (const m of messages) {
    for (const needle of ["secret-plans", "merger", event.id, "test-device", "default"]) {
      assert.ok(!m.payload.includes(needle), `the stream's ${m.subject} holds ${needle}`);
    }
  }
});

Deno.test("an event sealed with a newer epoch makes the receiver read its keys again, once", async () => {
  await using nats = await startNatsServer();
  const [one, two] = await fleetEpochs();
  const bKeys = heldKeys(one, two);
  await using a = await startTestBus({ natsUrl: nats.url, keys: heldKeys(two) });
  await using b = await startTestBus({ natsUrl: nats.url, keys: bKeys });
  a.bus.publish(testEvent(a.deviceId, 1));
  a.bus.publish(testEvent(a.deviceId, 2));
  await waitFor(() => b.received.length === 2, "B opens both events after reading epoch 2");
  assert.equal(bKeys.refreshes, 1);
  assert.equal(b.hints, 0);
});

Deno.test("sealed events a device cannot open, and plaintext ones in a sealed fleet, are hints handled once", async () => {
  await using nats = await startNatsServer();
  const [one, two] = await fleetEpochs();
  // C holds epoch 1 only and reads nothing newer (revoked); D holds no key at all.
  const cKeys = heldKeys(one);
  await using a = await startTestBus({ natsUrl: nats.url, keys: heldKeys(two) });
  await using c = await startTestBus({ natsUrl: nats.url, keys: cKeys });
  await using d = await startTestBus({ natsUrl: nats.url });
  await waitFor(() => a.bus.status().state === "connected", "A creates the stream");
  const plaintext = testEvent(a.deviceId, 1);
  const damaged = testEvent(a.deviceId, 2);
  const moved = testEvent(a.deviceId, 3);
  await withClient(nats.url, async (nc) => {
    const js = jetstream(nc);
    await js.publish(stateEventSubject(plaintext), JSON.stringify(plaintext));
    const box = JSON.parse(await eventPayload(two, JSON.stringify(damaged), "STATE.x.y")).sealed;
    await js.publish(stateEventSubject(damaged), JSON.stringify({ sealed: box.slice(0, -8) }));
    // A box sealed for another device's subject, replayed under A's.
    const other = { ...moved, device_id: crypto.randomUUID() };
    await js.publish(
      stateEventSubject(moved),
      await eventPayload(two, JSON.stringify(other), stateEventSubject(other)),
    );
  });
  a.bus.publish(testEvent(a.deviceId, 4));

  await waitFor(() => c.hints === 4, "C takes all four as hints");
  await waitFor(() => d.hints === 3, "D takes the three sealed ones as hints");
  await waitFor(() => d.received.length === 1, "D reads the plaintext one");
  await settle(1500);
  assert.equal(c.hints, 4, "no redelivery");
  assert.equal(d.hints, 3, "no redelivery");
  assert.deepEqual(c.received, []);
  assert.ok(cKeys.refreshes >= 1, "epoch 2 made C read its keys again");
  assert.ok(!c.logs.some((line) => line.startsWith("warning")), c.logs.join("\n"));
  // A sealed fleet's own daemon takes the plaintext event as a hint too.
  await using b = await startTestBus({ natsUrl: nats.url, keys: heldKeys(two) });
  await waitFor(() => b.received.length === 1 && b.hints === 3, "B reads only A's sealed event");
});
