import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { StateEvent } from "../../../core/events/state_event.ts";
import { createEventHandover } from "../../../daemon/nats/event_handover.ts";
import { openProcessedEvents } from "../../../daemon/nats/processed_events.ts";
import { testEvent } from "./event_bus_fixture.ts";

const ME = "device-me";
const PEER = "device-peer";

Deno.test("two copies of an event arriving together are handed over once, one at a time", async () => {
  const processed = openProcessedEvents(new DatabaseSync(":memory:"));
  const calls: string[] = [];
  let running = 0;
  const handOver = createEventHandover(ME, processed, () => async (event: StateEvent) => {
    running++;
    assert.equal(running, 1, "never two events in the handler at once");
    calls.push(event.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    running--;
  });
  const first = testEvent(PEER, 1);
  const second = testEvent(PEER, 2);
  await Promise.all([handOver(first), handOver(first), handOver(second), handOver(first)]);
  assert.deepEqual(calls, [first.id, second.id]);
  assert.ok(processed.has(first.id) && processed.has(second.id));
});

Deno.test("a failed handover is not recorded, so the next copy is handled; own events never are", async () => {
  const processed = openProcessedEvents(new DatabaseSync(":memory:"));
  let fail = true;
  const calls: string[] = [];
  const handOver = createEventHandover(ME, processed, () => (event: StateEvent) => {
    calls.push(event.id);
    return fail ? Promise.reject(new Error("store unreachable")) : Promise.resolve();
  });
  const event = testEvent(PEER, 1);
  await assert.rejects(handOver(event), /store unreachable/);
  assert.equal(processed.has(event.id), false);
  fail = false;
  await handOver(event);
  await handOver(testEvent(ME, 2));
  assert.deepEqual(calls, [event.id, event.id], "handled on the second copy; own event skipped");
});

Deno.test("without a registered handler the handover fails and records nothing", async () => {
  const processed = openProcessedEvents(new DatabaseSync(":memory:"));
  const event = testEvent(PEER, 1);
  await assert.rejects(createEventHandover(ME, processed, () => undefined)(event), /no handler/);
  assert.equal(processed.has(event.id), false);
});
