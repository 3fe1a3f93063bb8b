/**
 * Fuzz target: version JSON as read from the store (and from the device's own version cache).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type FileVersion, parseFileVersion } from "../../../core/remote/file_version.ts";
import { unsafePathReason } from "../../../core/paths/remote_path.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { hostileJson, pick } from "../mutations.ts";

const DIGEST = "ab".repeat(32);
const DEVICE = "0b8e9a4c-2f36-4c7e-9d4c-3f1f6c2a8e11";

/** Valid versions of each kind, as a device writes them. */
export const SAMPLE_VERSIONS: FileVersion[] = [
  {
    format: 2,
    path: "docs/report.txt",
    kind: "file",
    size: 10,
    mode: 0o644,
    mtime_ms: 1_760_000_000_000,
    blake3: DIGEST,
    chunks: [{ id: DIGEST, size: 4, pack: "cd".repeat(16), offset: 0, length: 40 }, {
      id: DIGEST,
      size: 6,
    }],
    vclock: { [DEVICE]: 3 },
    author: DEVICE,
    author_name: "yoga",
    written_at: "2026-12-03T10:00:00.000Z",
  },
  {
    format: 2,
    path: "a/small.txt",
    kind: "file",
    size: 3,
    mode: 0o600,
    mtime_ms: 1,
    blake3: DIGEST,
    chunks: [],
    inline: "YWJj",
    vclock: { [DEVICE]: 1 },
    author: DEVICE,
    author_name: "yoga",
    written_at: "2026-12-03T10:00:00.000Z",
  },
  {
    format: 1,
    path: "bin/python",
    kind: "symlink",
    size: 0,
    mode: 0o777,
    mtime_ms: 0,
    blake3: "",
    chunks: [],
    target: "../lib/python3.11",
    vclock: { [DEVICE]: 2 },
    author: DEVICE,
    author_name: "yoga",
    written_at: "2026-12-03T10:00:00.000Z",
  },
];

export const target: FuzzTarget<{ bytes: Uint8Array }> = {
  input: (random) => ({ bytes: hostileJson(random, pick(random, SAMPLE_VERSIONS)) }),
  run: ({ bytes }) => {
    const version = parseFileVersion(bytes, "fuzz");
    assert.equal(unsafePathReason(version.path), undefined, "a parsed path is safe");
    assert.ok(Array.isArray(version.chunks), "chunks is a list");
  },
};
