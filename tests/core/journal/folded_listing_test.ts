/**
 * What a mount's tree is built from: each path's newest head as SQLite takes it out of the fold
 * (no version parsed in JavaScript), which must be the head `newestHead` picks from the parsed
 * versions; and a version read back by its key, also once it is superseded.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  foldedListing,
  foldedNamespace,
  foldedVersion,
  foldIn,
} from "../../../core/journal/folded_versions.ts";
import type { StoredVersion } from "../../../core/journal/stored_version.ts";
import type { FileVersion, VersionKind } from "../../../core/remote/file_version.ts";
import type { VectorClock } from "../../../core/vclock/vector_clock.ts";
import { newestHead } from "../../../core/sync/remote_listing.ts";
import { StateDb } from "../../../core/state/state_db.ts";

const NS = "http://127.0.0.1:1/b#default";

function version(
  path: string,
  author: string,
  vclock: VectorClock,
  { kind = "file" as VersionKind, size = 1, writtenAt = "2026-01-01T00:00:00.000Z" } = {},
): StoredVersion {
  const v: FileVersion = {
    format: 2,
    path,
    kind,
    size: kind === "file" ? size : 0,
    mode: 0o640,
    mtime_ms: 1_700_000_000_000 + size,
    blake3: kind === "file" ? "ab".repeat(32) : "",
    chunks: kind === "file" ? [{ id: "cd".repeat(32), size }] : [],
    vclock,
    author,
    author_name: author,
    written_at: writtenAt,
    ...(kind === "symlink" ? { target: "../elsewhere" } : {}),
  };
  return { key: `ns/default/v/${path}/${author}-${vclock[author]}.json`, version: v };
}

async function withState(run: (state: StateDb) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-folded-listing-" });
  const state = await StateDb.open(join(dir, "state.db"));
  try {
    await run(state);
  } finally {
    state.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("foldedListing: each path's newest head, as newestHead picks it from the versions", () =>
  withState((state) => {
    foldIn(state, NS, [
      version("docs/a.txt", "aaaa", { aaaa: 1 }, { size: 5 }),
      version("docs/a.txt", "aaaa", { aaaa: 2 }, { size: 7 }), // supersedes
      // Concurrent heads: the later written wins, whichever key sorts first.
      version("docs/both.txt", "aaaa", { aaaa: 1 }, {
        size: 3,
        writtenAt: "2026-01-02T00:00:00.000Z",
      }),
      version("docs/both.txt", "bbbb", { bbbb: 1 }, { size: 4 }),
      version("docs/both2.txt", "aaaa", { aaaa: 1 }, { size: 3 }),
      version("docs/both2.txt", "bbbb", { bbbb: 1 }, {
        size: 4,
        writtenAt: "2026-01-02T00:00:00.000Z",
      }),
      version("docs/gone.txt", "aaaa", { aaaa: 1 }),
      version("docs/gone.txt", "aaaa", { aaaa: 2 }, { kind: "deleted" }),
      version("docs/link", "aaaa", { aaaa: 1 }, { kind: "symlink" }),
      version("docs", "aaaa", { aaaa: 1 }),
      version("docs-x/b.txt", "aaaa", { aaaa: 1 }),
    ]);
    const listed = [...foldedListing(state, NS, "")];
    const whole = foldedNamespace(state, NS, () => true);
    assert.deepEqual(listed.map((h) => h.path), [...whole.keys()].sort());
    for (const head of listed) {
      const { key, version: v } = newestHead(whole.get(head.path)!.heads);
      assert.deepEqual(
        [head.key, head.kind, head.size, head.mode, head.mtimeMs, head.target],
        [key, v.kind, v.size, v.mode, v.mtime_ms, v.target],
        head.path,
      );
    }
    const byPath = new Map(listed.map((h) => [h.path, h]));
    assert.equal(byPath.get("docs/a.txt")!.size, 7);
    assert.equal(byPath.get("docs/both.txt")!.size, 3);
    assert.equal(byPath.get("docs/both2.txt")!.size, 4);
    assert.equal(byPath.get("docs/gone.txt")!.kind, "deleted");
    assert.equal(byPath.get("docs/link")!.target, "../elsewhere");

    assert.deepEqual(
      [...foldedListing(state, NS, "docs")].map((h) => h.path),
      ["docs", "docs/a.txt", "docs/both.txt", "docs/both2.txt", "docs/gone.txt", "docs/link"],
    );
  }));

Deno.test("foldedVersion: a version by its key, also once superseded; none for a key never folded", () =>
  withState((state) => {
    const first = version("a.txt", "aaaa", { aaaa: 1 }, { size: 5 });
    const second = version("a.txt", "aaaa", { aaaa: 2 }, { size: 9 });
    foldIn(state, NS, [first]);
    assert.deepEqual(foldedVersion(state, NS, "a.txt", first.key), first.version);
    foldIn(state, NS, [second]);
    assert.deepEqual(foldedVersion(state, NS, "a.txt", first.key), first.version);
    assert.deepEqual(foldedVersion(state, NS, "a.txt", second.key), second.version);
    assert.equal(foldedVersion(state, NS, "a.txt", "ns/default/v/a.txt/bbbb-1.json"), undefined);
    assert.equal(foldedVersion(state, NS, "b.txt", first.key), undefined);
  }));
