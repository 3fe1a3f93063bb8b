/**
 * Fuzz target: journal segments as read from the store, valid ones mutated before or after
 * their encoding. Whatever a segment holds, decoding it returns a segment whose every version
 * is safe and its device's own, or refuses the whole object as damaged (or too new): a reader
 * skips such an object and reports it, so no other kind of error may escape.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TcfsError } from "../../../core/errors.ts";
import { decodeSegment, encodeJournalObject } from "../../../core/journal/journal_codec.ts";
import { encodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { segmentKey } from "../../../core/remote/remote_keys.ts";
import { unsafePathReason } from "../../../core/paths/remote_path.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { hostileJson, mutateBytes } from "../mutations.ts";
import { SAMPLE_VERSIONS } from "./version_target.ts";

const DEVICE = SAMPLE_VERSIONS[0].author;
const KEY = segmentKey("default", DEVICE, 7);
const SEGMENT = {
  journal: 1 as const,
  namespace: "default",
  device: DEVICE,
  seq: 7,
  written_at: "2026-12-03T10:00:00.000Z",
  versions: SAMPLE_VERSIONS,
};

const ENCODED_SEGMENT = await encodeJournalObject(SEGMENT, KEY, undefined);

export const target: FuzzTarget<{ bytes: Uint8Array }> = {
  input: (random) => ({
    bytes: random() < 0.8
      ? encodeChunk(hostileJson(random, SEGMENT))
      : mutateBytes(random, ENCODED_SEGMENT),
  }),
  run: async ({ bytes }) => {
    let segment;
    try {
      segment = await decodeSegment(bytes, KEY, undefined);
    } catch (err) {
      if (err instanceof TcfsError && !["corrupt_journal", "journal_too_new"].includes(err.kind)) {
        assert.fail(`a damaged segment threw ${err.kind}, not corrupt_journal: ${err.message}`);
      }
      throw err;
    }
    assert.equal(segment.device, DEVICE, "a parsed segment is the key's device's");
    for (const version of segment.versions) {
      assert.equal(version.author, DEVICE, "every version is the segment device's own");
      assert.equal(unsafePathReason(version.path), undefined, "a parsed path is safe");
    }
  },
};
