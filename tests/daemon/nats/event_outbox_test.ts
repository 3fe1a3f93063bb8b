import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openEventOutbox } from "../../../daemon/nats/event_outbox.ts";
import { testEvent } from "./event_bus_fixture.ts";

const DEVICE = "5f0c2a3e-0000-4000-8000-000000000001";

Deno.test("the outbox returns events oldest first, with subject and payload, until removed", () => {
  const outbox = openEventOutbox(new DatabaseSync(":memory:"));
  const events = [1, 2, 3].map((n) => testEvent(DEVICE, n));
  for (const event of events) assert.equal(outbox.add(event), 0);
  assert.equal(outbox.depth(), 3);

  const seen = [];
  for (let entry = outbox.oldest(); entry; entry = outbox.oldest()) {
    assert.equal(entry.subject, `STATE.${DEVICE}.file_synced`);
    seen.push(JSON.parse(entry.payload));
    outbox.remove(entry.seq);
  }
  assert.deepEqual(seen, events);
  assert.equal(outbox.depth(), 0);
});

Deno.test("the outbox keeps an event id once and survives reopening the database", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const event = testEvent(DEVICE, 1);
    const db = new DatabaseSync(`${dir}/state.db`);
    const outbox = openEventOutbox(db);
    outbox.add(event);
    outbox.add(event);
    assert.equal(outbox.depth(), 1);
    db.close();

    const reopened = openEventOutbox(new DatabaseSync(`${dir}/state.db`));
    assert.equal(reopened.oldest()?.id, event.id);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a full outbox drops its oldest events and says how many", () => {
  const outbox = openEventOutbox(new DatabaseSync(":memory:"), 3);
  const events = [1, 2, 3, 4, 5].map((n) => testEvent(DEVICE, n));
  const dropped = events.map((event) => outbox.add(event));
  assert.deepEqual(dropped, [0, 0, 0, 1, 1]);
  assert.equal(outbox.depth(), 3);
  assert.equal(outbox.oldest()?.id, events[2].id);
});
