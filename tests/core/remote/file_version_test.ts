import assert from "node:assert/strict";
import {
  encodeFileVersion,
  encodeStoredVersion,
  type FileVersion,
  MAX_VERSION_BYTES,
  parseFileVersion,
  VERSION_FORMAT,
  versionMtime,
} from "../../../core/remote/file_version.ts";

const small: FileVersion = {
  format: VERSION_FORMAT,
  path: "notes/small.txt",
  kind: "file",
  size: 5,
  mode: 0o644,
  mtime_ms: 1_764_000_000_000,
  blake3: "a".repeat(64),
  chunks: [],
  inline: "aGVsbG8=",
  vclock: { dev: 1 },
  author: "dev",
  author_name: "dev",
  written_at: "2026-11-26T00:00:00.000Z",
};

Deno.test("a mode that is not an integer from 0 to 0o7777 makes the version corrupt", () => {
  for (const mode of [0.5, -1, 0o10000, 0o100644, 2 ** 53, "644", null]) {
    const body = new TextEncoder().encode(JSON.stringify({ ...small, mode }));
    assert.throws(
      () => parseFileVersion(body, "k"),
      (err: Error & { kind?: string }) =>
        err.kind === "corrupt_version" && /mode .* is not a permission mode/.test(err.message),
      `mode ${mode}`,
    );
  }
  assert.equal(parseFileVersion(encodeFileVersion({ ...small, mode: 0o6755 }), "k").mode, 0o6755);
});

Deno.test("chunk refs beyond what the format writes make the version corrupt", () => {
  const ref = { id: "b".repeat(64), size: 1000, pack: "c".repeat(32), offset: 0, length: 1001 };
  const withRef = (changes: Record<string, unknown>) =>
    encodeFileVersion({
      ...small,
      inline: undefined,
      size: 1000,
      chunks: [{ ...ref, ...changes }],
    });
  assert.equal(parseFileVersion(withRef({}), "k").chunks[0].length, 1001);
  for (
    const changes of [
      { length: 2 ** 40 },
      { length: -1 },
      { offset: -1 },
      { offset: 2 ** 40 },
      { size: 2 ** 40 },
      { length: 1.5 },
    ]
  ) {
    assert.throws(
      () => parseFileVersion(withRef(changes), "k"),
      (err: Error & { kind?: string }) => err.kind === "corrupt_version",
      JSON.stringify(changes),
    );
  }
});

Deno.test("a version no reader would accept is not written", () => {
  assert.deepEqual(encodeStoredVersion(small), encodeFileVersion(small));
  assert.throws(
    () => encodeStoredVersion({ ...small, inline: "A".repeat(MAX_VERSION_BYTES) }),
    (err: Error & { kind?: string }) =>
      err.kind === "file_too_large" &&
      /more than the 67108864 a version may hold/.test(err.message),
  );
});

Deno.test("formats 1, 2 and 3 (keyed chunk ids) are read; a newer one is refused unread", () => {
  for (const format of [1, 2, 3]) {
    const body = encodeFileVersion({ ...small, format } as FileVersion);
    assert.equal(parseFileVersion(body, "k").format, format);
  }
  for (const format of [0, 4, "3", undefined]) {
    const body = new TextEncoder().encode(JSON.stringify({ ...small, format }));
    assert.throws(
      () => parseFileVersion(body, "k"),
      (err: Error & { kind?: string }) =>
        err.kind === "corrupt_version" && /format .* is not 1, 2 or 3/.test(err.message),
      `format ${format}`,
    );
  }
});

Deno.test("a file dated before 1970 is a readable version, written with 1970 for older readers", () => {
  const before1970 = Date.parse("1960-01-01T00:00:00Z");
  // Earlier pushes wrote such mtimes, and every version in the same journal object was lost.
  const read = parseFileVersion(encodeFileVersion({ ...small, mtime_ms: before1970 }), "k");
  assert.equal(read.mtime_ms, before1970);
  assert.equal(versionMtime(before1970), 0);
  assert.equal(versionMtime(small.mtime_ms), small.mtime_ms);
  for (const mtime_ms of [0.5, 2 ** 53, "0", null]) {
    const body = new TextEncoder().encode(JSON.stringify({ ...small, mtime_ms }));
    assert.throws(() => parseFileVersion(body, "k"), /mtime_ms is not a whole number/);
  }
});
