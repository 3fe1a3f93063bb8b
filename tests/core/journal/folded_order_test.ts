import assert from "node:assert/strict";
import { join } from "node:path";
import {
  foldedInOrder,
  foldedNamespace,
  foldedPath,
  foldedPathsAmong,
  foldIn,
  soleHeadsAmong,
} from "../../../core/journal/folded_versions.ts";
import type { StoredVersion } from "../../../core/journal/stored_version.ts";
import type { FileVersion, VersionKind } from "../../../core/remote/file_version.ts";
import type { VectorClock } from "../../../core/vclock/vector_clock.ts";
import { comparePaths } from "../../../core/paths/path_order.ts";
import { PAGE_ROWS, StateDb } from "../../../core/state/state_db.ts";

const NS = "http://127.0.0.1:1/b#default";

/** A version of `path` by `author` with `vclock`, named as readers name it. */
function version(
  path: string,
  author: string,
  vclock: VectorClock,
  kind: VersionKind = "file",
): StoredVersion {
  const v: FileVersion = {
    format: 2,
    path,
    kind,
    size: kind === "file" ? 1 : 0,
    mode: 0o644,
    mtime_ms: 0,
    blake3: kind === "file" ? "ab".repeat(32) : "",
    chunks: [],
    vclock,
    author,
    author_name: author,
    written_at: "2026-01-01T00:00:00.000Z",
  };
  return { key: `ns/default/v/${path}/${author}-${vclock[author]}.json`, version: v };
}

Deno.test("a pass over the fold lists every path in order, a page at a time, as the fold holds it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-folded-order-" });
  const state = await StateDb.open(join(dir, "state.db"));
  try {
    // More paths than a page, a path with two heads (a conflict), one with a deletion whose
    // content is kept, one superseded, and neighbours of the prefix that are not under it.
    const versions = Array.from(
      { length: PAGE_ROWS * 2 + 10 },
      (_, i) => version(`docs/f${i}.txt`, "aaaa", { aaaa: 1 }),
    );
    versions.push(
      version("docs/both.txt", "aaaa", { aaaa: 1 }),
      version("docs/both.txt", "bbbb", { bbbb: 1 }),
      version("docs/gone.txt", "aaaa", { aaaa: 1 }),
      version("docs/gone.txt", "aaaa", { aaaa: 2 }, "deleted"),
      version("docs/new.txt", "aaaa", { aaaa: 1 }),
      version("docs/new.txt", "bbbb", { aaaa: 1, bbbb: 1 }),
      version("docs", "aaaa", { aaaa: 1 }),
      version("docs-x", "aaaa", { aaaa: 1 }),
      version("docs.txt", "aaaa", { aaaa: 1 }),
    );
    foldIn(state, NS, versions);

    const whole = foldedNamespace(state, NS, () => true);
    const listed = [...foldedInOrder(state, NS, "")];
    assert.deepEqual(listed.map((f) => f.path), [...whole.keys()].sort(comparePaths));
    for (const { path, heads, soleHead } of listed) {
      const expected = whole.get(path)!.heads;
      assert.equal(heads, expected.length, path);
      assert.equal(soleHead, expected.length === 1 ? expected[0].key : undefined, path);
    }
    const byPath = new Map(listed.map((f) => [f.path, f]));
    assert.equal(byPath.get("docs/both.txt")!.heads, 2);
    assert.equal(byPath.get("docs/new.txt")!.soleHead, "ns/default/v/docs/new.txt/bbbb-1.json");
    assert.equal(byPath.get("docs/gone.txt")!.soleHead, "ns/default/v/docs/gone.txt/aaaa-2.json");

    const under = [...foldedInOrder(state, NS, "docs")].map((f) => f.path);
    assert.deepEqual(
      under,
      listed.map((f) => f.path).filter((p) => p === "docs" || p.startsWith("docs/")),
    );
  } finally {
    state.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a block of paths' heads, and their sole heads' kinds and sizes, read together as one by one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-folded-among-" });
  const state = await StateDb.open(join(dir, "state.db"));
  try {
    const big = version("big.bin", "aaaa", { aaaa: 1 });
    big.version.size = 5_000_000_000;
    foldIn(state, NS, [
      big,
      version("both.txt", "aaaa", { aaaa: 1 }),
      version("both.txt", "bbbb", { bbbb: 1 }),
      version("gone.txt", "aaaa", { aaaa: 1 }),
      version("gone.txt", "aaaa", { aaaa: 2 }, "deleted"),
      version("other.txt", "aaaa", { aaaa: 1 }),
    ]);
    const paths = ["big.bin", "both.txt", "gone.txt", "never.txt"];
    const among = foldedPathsAmong(state, NS, paths);
    assert.deepEqual([...among.keys()], paths);
    for (const path of paths) assert.deepEqual(among.get(path), foldedPath(state, NS, path), path);
    assert.deepEqual(
      soleHeadsAmong(state, NS, paths),
      new Map([["big.bin", { kind: "file", size: 5_000_000_000 }], ["gone.txt", {
        kind: "deleted",
        size: 0,
      }]]),
    );
  } finally {
    state.close();
    await Deno.remove(dir, { recursive: true });
  }
});
