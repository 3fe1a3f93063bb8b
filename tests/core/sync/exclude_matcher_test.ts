import assert from "node:assert/strict";
// @ts-types="@types/picomatch"
import picomatch from "picomatch";
import { createExcludeMatcher, createPathExcluder } from "../../../core/sync/exclude_matcher.ts";
import { ROOT_MARKER } from "../../../core/sync/root_marker.ts";

const PATTERNS = [
  "*.swp",
  "*.swo",
  ".direnv",
  "build/tmp",
  "**/node_modules",
  "*.{log,tmp}",
  "cache?",
  "[ab]*.txt",
  "a[1]",
  "?(x)",
  "!keep",
  "docs/**/*.bak",
];
const PATHS = [
  "a.swp",
  "x/.a.txt.swp",
  ".direnv",
  "p/.direnv",
  "build/tmp",
  "x/build/tmp",
  "x/node_modules",
  "node_modules",
  "run.log",
  "d/run.tmp",
  "cache1",
  "cache12",
  "a.txt",
  "b/c.txt",
  "a[1]",
  "?(x)",
  "keep",
  "other",
  "docs/x/y.bak",
  "docs/y.bak",
  ".x.txt.tcfs-tmp-12-0123abcd",
  "d/.tcfs-root",
  ".tcfs-root",
  "",
  "plain.txt",
];

Deno.test("the exclude matcher says what picomatch's matchers say, name or path", () => {
  const excluded = createExcludeMatcher(PATTERNS);
  const matchers = [".*.tcfs-tmp-*", ROOT_MARKER, ...PATTERNS]
    .map((p) => picomatch(p, { dot: true }));
  for (const rel of PATHS) {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    const expected = matchers.some((match) => match(name) || match(rel));
    assert.equal(excluded(rel), expected, rel);
  }
  // Its own expression does not match `?(x)`: picomatch's matcher takes it for equal all the same.
  assert.ok(createExcludeMatcher(["?(x)"])("d/?(x)"), "a glob equal to a name matches it");
  const swaps = createExcludeMatcher(["*.swp"]);
  assert.ok(swaps("x/.a.txt.swp"));
  assert.ok(swaps("d/.b.txt.tcfs-tmp-12-0123abcd"), "tcfs's own names are always excluded");
  assert.ok(!swaps("plain.txt"));
});

Deno.test("the path excluder also excludes what lies below an excluded folder", () => {
  const excluded = createPathExcluder([".direnv"]);
  assert.ok(excluded(".direnv/cache/x"));
  assert.ok(!excluded("direnv/x"));
});
