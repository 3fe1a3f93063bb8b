import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openProcessedEvents } from "../../../daemon/nats/processed_events.ts";

Deno.test("processed event ids are remembered, up to the limit, newest kept", () => {
  const processed = openProcessedEvents(new DatabaseSync(":memory:"), 3);
  assert.equal(processed.has("a"), false);
  for (const id of ["a", "b", "c", "d"]) processed.add(id);
  assert.equal(processed.has("a"), false, "the oldest id is forgotten");
  for (const id of ["b", "c", "d"]) assert.equal(processed.has(id), true);
  processed.add("d");
  assert.equal(processed.has("b"), true, "adding a known id forgets nothing");
});
