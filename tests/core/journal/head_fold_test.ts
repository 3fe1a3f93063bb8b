import assert from "node:assert/strict";
import { covers, type FoldedPath, foldVersion } from "../../../core/journal/head_fold.ts";
import type { StoredVersion } from "../../../core/journal/stored_version.ts";
import type { FileVersion, VersionKind } from "../../../core/remote/file_version.ts";
import type { VectorClock } from "../../../core/vclock/vector_clock.ts";
import { seededRandom } from "../../faults/seeded_random.ts";

const DEVICES = ["aaaa", "bbbb", "cccc", "dddd"];

/** A version of "notes.txt" by `author` with `vclock`, named as readers name it. */
function version(author: string, vclock: VectorClock, kind: VersionKind = "file"): StoredVersion {
  const v: FileVersion = {
    format: 2,
    path: "notes.txt",
    kind,
    size: kind === "file" ? 1 : 0,
    mode: 0o644,
    mtime_ms: 0,
    blake3: kind === "file" ? JSON.stringify(vclock) : "",
    chunks: [],
    vclock,
    author,
    author_name: author,
    written_at: "2026-01-01T00:00:00.000Z",
  };
  return { key: `ns/default/v/x/${author}-${vclock[author] ?? 0}.json`, version: v };
}

function foldAll(versions: readonly StoredVersion[]): FoldedPath {
  let path: FoldedPath = { heads: [], kept: [] };
  for (const v of versions) path = foldVersion(path, v) ?? path;
  return path;
}

/** Heads and kept keys, sorted: what two folds must agree on. */
function keysOf(path: FoldedPath): { heads: string[]; kept: string[] } {
  return { heads: path.heads.map((v) => v.key).sort(), kept: path.kept.map((v) => v.key).sort() };
}

/**
 * What the fold must give for a set, said directly: the heads are the versions nothing else
 * covers; the kept ones are content, no head, and covered by no other content.
 */
function expectedOf(versions: readonly StoredVersion[]): { heads: string[]; kept: string[] } {
  const isContent = (v: StoredVersion) => v.version.kind !== "deleted";
  const heads = versions.filter((v) => !versions.some((w) => w !== v && covers(w, v)));
  const kept = versions.filter((v) =>
    isContent(v) && !heads.includes(v) &&
    !versions.some((w) => w !== v && isContent(w) && covers(w, v))
  );
  return { heads: heads.map((v) => v.key).sort(), kept: kept.map((v) => v.key).sort() };
}

/** A random history: each version builds on up to two earlier ones, a third are deletions. */
function randomHistory(random: () => number, count: number): StoredVersion[] {
  const counters = new Map<string, number>();
  const versions: StoredVersion[] = [];
  for (let i = 0; i < count; i++) {
    const author = DEVICES[Math.floor(random() * DEVICES.length)];
    const clock: Record<string, number> = {};
    for (let b = Math.floor(random() * 3); b > 0 && versions.length > 0; b--) {
      const base = versions[Math.floor(random() * versions.length)].version.vclock;
      for (const [d, n] of Object.entries(base)) clock[d] = Math.max(clock[d] ?? 0, n);
    }
    const next = (counters.get(author) ?? 0) + 1;
    counters.set(author, next);
    clock[author] = next;
    versions.push(version(author, clock, random() < 0.3 ? "deleted" : "file"));
  }
  return versions;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

Deno.test("the fold of a set of versions is the same in every order", () => {
  const random = seededRandom(13);
  let withConflicts = 0;
  let withKept = 0;
  for (let history = 0; history < 40; history++) {
    const versions = randomHistory(random, 4 + Math.floor(random() * 12));
    const expected = expectedOf(versions);
    if (expected.heads.length > 1) withConflicts++;
    if (expected.kept.length > 0) withKept++;
    for (let order = 0; order < 25; order++) {
      const folded = foldAll(shuffled(versions, random));
      assert.deepEqual(keysOf(folded), expected, `history ${history}, order ${order}`);
    }
  }
  // The histories exercised what the fold is for, not only straight lines.
  assert.ok(withConflicts >= 5 && withKept >= 5, `${withConflicts} ${withKept}`);
});

Deno.test("concurrent versions are all heads; a version that covers them all replaces them", () => {
  const a = version("aaaa", { aaaa: 1 });
  const b = version("bbbb", { aaaa: 1, bbbb: 1 });
  const c = version("cccc", { aaaa: 1, cccc: 1 });
  const merge = version("aaaa", { aaaa: 2, bbbb: 1, cccc: 1 });
  for (const order of [[a, b, c], [c, b, a], [b, a, c]]) {
    assert.deepEqual(keysOf(foldAll(order)), { heads: [b.key, c.key].sort(), kept: [] });
    assert.deepEqual(keysOf(foldAll([...order, merge])), { heads: [merge.key], kept: [] });
    assert.deepEqual(keysOf(foldAll([merge, ...order])), { heads: [merge.key], kept: [] });
  }
});

Deno.test("a deletion keeps the last content; content written after the deletion drops it", () => {
  const first = version("aaaa", { aaaa: 1 });
  const last = version("aaaa", { aaaa: 2 });
  const deleted = version("bbbb", { aaaa: 2, bbbb: 1 }, "deleted");
  const recreated = version("cccc", { aaaa: 2, bbbb: 1, cccc: 1 });
  for (const order of [[first, last, deleted], [deleted, first, last], [deleted, last, first]]) {
    const folded = foldAll(order);
    assert.deepEqual(keysOf(folded), { heads: [deleted.key], kept: [last.key] });
    assert.equal(folded.kept[0].version.blake3, last.version.blake3);
    assert.deepEqual(keysOf(foldAll([...order, recreated])), { heads: [recreated.key], kept: [] });
    assert.deepEqual(keysOf(foldAll([recreated, ...order])), { heads: [recreated.key], kept: [] });
  }
  // Content concurrent with the deletion does not cover what the deletion keeps.
  const other = version("dddd", { dddd: 1 });
  assert.deepEqual(keysOf(foldAll([last, other, deleted])), {
    heads: [deleted.key, other.key].sort(),
    kept: [last.key],
  });
});

Deno.test("a version folded twice changes nothing", () => {
  const a = version("aaaa", { aaaa: 1 });
  const b = version("bbbb", { bbbb: 1 });
  const deleted = version("cccc", { aaaa: 1, cccc: 1 }, "deleted");
  const folded = foldAll([a, b, deleted]);
  for (const again of [a, b, deleted]) assert.equal(foldVersion(folded, again), undefined);
  // A copy of a version (read from a checkpoint and again from its segment) is the same version.
  assert.equal(foldVersion(folded, structuredClone(b)), undefined);
  assert.deepEqual(keysOf(foldAll([a, b, a, deleted, b, deleted, a])), keysOf(folded));
  // Dominated content no deletion keeps changes nothing either.
  const newer = foldAll([a, version("aaaa", { aaaa: 2 })]);
  assert.equal(foldVersion(newer, version("aaaa", { aaaa: 1 })), undefined);
});

Deno.test("two versions with one clock: the smaller key wins, whatever the order", () => {
  const one = version("aaaa", { aaaa: 1 });
  const twin = { ...version("aaaa", { aaaa: 1 }), key: "ns/default/v/x/aaaa-1.json~twin" };
  assert.deepEqual(keysOf(foldAll([one, twin])), { heads: [one.key], kept: [] });
  assert.deepEqual(keysOf(foldAll([twin, one])), { heads: [one.key], kept: [] });
});
