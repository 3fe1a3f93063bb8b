import assert from "node:assert/strict";
import { decodeStateEvent } from "../../daemon/nats/state_event_payload.ts";
import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("state events", new URL("./targets/state_event_target.ts", import.meta.url));

// Found by seed 3416946796, case 115: events carried any path (`..`, absolute, megabytes long)
// to the sync loop, which keeps every path it is told about until its next step.
Deno.test("an event naming an unsafe path, or larger than 64 KiB, is invalid", () => {
  const device = "0b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11";
  const base = {
    id: "5c1d2a8e-0f0b-4d55-9a52-2b0d3c1e9f00",
    type: "file_renamed",
    device_id: device,
    device_name: "yoga",
    timestamp: "2026-12-03T10:00:00.000Z",
    path: "b.txt",
    old_path: "a.txt",
  };
  const subject = `STATE.${device}.file_renamed`;
  assert.equal(decodeStateEvent(subject, JSON.stringify(base)).path, "b.txt");
  const hostile = [
    { ...base, path: "../../etc/passwd" },
    { ...base, old_path: "/etc/passwd" },
    { ...base, path: "a/\0b" },
    { ...base, path: "docs/".repeat(1000) + "a.txt" },
    { ...base, device_name: "x".repeat(70_000) },
  ];
  for (const event of hostile) {
    assert.throws(() => decodeStateEvent(subject, JSON.stringify(event)), {
      kind: "state_event_invalid",
    });
  }
});
