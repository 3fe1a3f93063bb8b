import assert from "node:assert/strict";
import { TcfsError } from "../../../core/errors.ts";
import { decodeStateEvent } from "../../../daemon/nats/state_event_payload.ts";
import { testEvent } from "./event_bus_fixture.ts";

const DEVICE = "5f0c2a3e-0000-4000-8000-000000000001";
const SUBJECT = `STATE.${DEVICE}.file_synced`;

Deno.test("a well-formed event on its own subject decodes to the same event", () => {
  const event = testEvent(DEVICE, 1);
  assert.deepEqual(decodeStateEvent(SUBJECT, JSON.stringify(event)), event);
});

Deno.test("an event's journal position decodes with it", () => {
  const event = { ...testEvent(DEVICE, 1), journal_seq: 42 };
  assert.equal(decodeStateEvent(SUBJECT, JSON.stringify(event)).journal_seq, 42);
});

Deno.test("malformed, mistyped or misaddressed events are refused with the reason", () => {
  const event = testEvent(DEVICE, 1);
  const cases: [string, string, RegExp][] = [
    [SUBJECT, "{", /not JSON/],
    [SUBJECT, "[]", /not a JSON object/],
    [SUBJECT, JSON.stringify({ ...event, id: "" }), /"id" is missing/],
    [SUBJECT, JSON.stringify({ ...event, device_name: undefined }), /"device_name" is missing/],
    [SUBJECT, JSON.stringify({ ...event, path: ["x"] }), /"path" is not a string/],
    [SUBJECT, JSON.stringify({ ...event, vclock: { [DEVICE]: -1 } }), /"vclock"/],
    [SUBJECT, JSON.stringify({ ...event, journal_seq: 0 }), /"journal_seq"/],
    [SUBJECT, JSON.stringify({ ...event, journal_seq: 1.5 }), /"journal_seq"/],
    [SUBJECT, JSON.stringify({ ...event, journal_seq: "7" }), /"journal_seq"/],
    [`STATE.${DEVICE}.file_eaten`, JSON.stringify({ ...event, type: "file_eaten" }), /unknown/],
    [`STATE.other.file_synced`, JSON.stringify(event), /subject other than/],
  ];
  for (const [subject, payload, reason] of cases) {
    assert.throws(
      () => decodeStateEvent(subject, payload),
      (err) => err instanceof TcfsError && reason.test(err.message),
      `${payload} on ${subject}`,
    );
  }
});
