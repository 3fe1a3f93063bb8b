import assert from "node:assert/strict";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { storeHeads } from "../../support/journal_store.ts";
import { openVersionBatch, type VersionContent } from "../../../core/journal/version_batch.ts";
import { decodeSegment, SEGMENT_MAX_BYTES } from "../../../core/journal/journal_codec.ts";
import { encodeFileVersion } from "../../../core/remote/file_version.ts";
import { parseSegmentKey } from "../../../core/remote/remote_keys.ts";

/** A file of `count` one-byte chunks: its version takes about 83 bytes a chunk. */
function manyChunks(count: number): VersionContent {
  const chunk = { id: "c".repeat(64), size: 1 };
  return {
    kind: "file",
    size: count,
    mode: 0o644,
    mtime_ms: 1_700_000_000_000,
    blake3: "b".repeat(64),
    chunks: Array.from({ length: count }, () => chunk),
  };
}

Deno.test("a batch bigger than a segment's byte cap goes out as several segments, each readable", async () => {
  const tmp = await makeScopedTempDir("tcfs-segment-size-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  // A segment names only stored content.
  await store.put(`chunks/${"c".repeat(64)}`, new Uint8Array(2));
  try {
    // Three versions of ~45% of the cap each: two fit a segment, three do not.
    const content = manyChunks(Math.floor(SEGMENT_MAX_BYTES * 0.45 / 83));
    const batch = openVersionBatch(a.ctx);
    const written = ["x.bin", "y.bin", "z.bin"].map((rel) =>
      batch.write(rel, content, {}, { path: rel, heads: [], kept: [] })
    );
    await batch.flush();
    await Promise.all(written);

    const keys = [...store.objects.keys()].filter(parseSegmentKey).sort();
    assert.ok(keys.length > 1, `${keys.length} segment(s)`);
    const paths: string[] = [];
    for (const key of keys) {
      const segment = await decodeSegment(store.objects.get(key)!, key, undefined);
      const bytes = segment.versions.reduce((sum, v) => sum + encodeFileVersion(v).length, 0);
      assert.ok(bytes <= SEGMENT_MAX_BYTES, `${key}: ${bytes} bytes of versions`);
      paths.push(...segment.versions.map((v) => v.path));
    }
    assert.deepEqual(paths.sort(), ["x.bin", "y.bin", "z.bin"]);
    const read = await storeHeads(store);
    assert.deepEqual(read.unreadable, []);
    assert.deepEqual([...read.byPath.keys()].sort(), ["x.bin", "y.bin", "z.bin"]);
  } finally {
    await tmp.remove();
  }
});
