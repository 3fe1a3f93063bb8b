/**
 * Fuzz target: state events received over NATS, payload and subject.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  STATE_EVENT_TYPES,
  type StateEvent,
  stateEventSubject,
} from "../../../core/events/state_event.ts";
import { decodeStateEvent } from "../../../daemon/nats/state_event_payload.ts";
import { unsafePathReason } from "../../../core/paths/remote_path.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { hostileJson, hostileString, pick } from "../mutations.ts";

const DEVICE = "0b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11";

const SAMPLES: StateEvent[] = [
  {
    id: "5c1d2a8e-0f0b-4d55-9a52-2b0d3c1e9f00",
    type: "file_synced",
    device_id: DEVICE,
    device_name: "yoga",
    timestamp: "2026-12-03T10:00:00.000Z",
    namespace: "default",
    path: "docs/report.txt",
    version_key: `ns/default/v/${"ab".repeat(32)}/${DEVICE}-3.json`,
    vclock: { [DEVICE]: 3 },
  },
  {
    id: "6c1d2a8e-0f0b-4d55-9a52-2b0d3c1e9f00",
    type: "file_renamed",
    device_id: DEVICE,
    device_name: "yoga",
    timestamp: "2026-12-03T10:00:00.000Z",
    path: "b.txt",
    old_path: "a.txt",
  },
  {
    id: "7c1d2a8e-0f0b-4d55-9a52-2b0d3c1e9f00",
    type: "conflict_resolved",
    device_id: DEVICE,
    device_name: "yoga",
    timestamp: "2026-12-03T10:00:00.000Z",
    path: "a.txt",
    resolution: "keep_both",
  },
];

export const target: FuzzTarget<{ subject: string; payload: string }> = {
  input: (random) => {
    const sample = pick(random, SAMPLES);
    const subject = random() < 0.8
      ? stateEventSubject(sample)
      : `STATE.${hostileString(random)}.${pick(random, [...STATE_EVENT_TYPES, "x"])}`;
    return { subject, payload: new TextDecoder().decode(hostileJson(random, sample)) };
  },
  run: ({ subject, payload }) => {
    const event = decodeStateEvent(subject, payload);
    assert.ok((STATE_EVENT_TYPES as readonly string[]).includes(event.type));
    assert.equal(stateEventSubject(event), subject, "an event speaks only for its own device");
    for (const path of [event.path, event.old_path]) {
      if (path !== undefined) assert.equal(unsafePathReason(path), undefined, "paths are safe");
    }
  },
};
