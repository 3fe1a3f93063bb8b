import assert from "node:assert/strict";
import { conflictCopyPath, parseConflictCopy } from "../../../core/conflicts/conflict_copy_name.ts";

const WHEN = new Date("2026-12-03T08:16:55.123Z");

Deno.test("a copy's name comes from the losing side's author and time, tagged only on request", () => {
  assert.equal(
    conflictCopyPath("docs/shared-0.txt", "bravo", WHEN),
    "docs/shared-0.conflict-bravo-20261203-081655.txt",
  );
  assert.equal(
    conflictCopyPath(".bashrc", "my host", WHEN),
    ".bashrc.conflict-my_host-20261203-081655",
  );
  assert.equal(
    conflictCopyPath("a.tar.gz", "x", WHEN, "0badc0de"),
    "a.tar.conflict-x-20261203-081655-0badc0de.gz",
  );
});

Deno.test("a copy's name reads back to its original and stamp; other names are not copies", () => {
  for (
    const [rel, tag] of [["docs/shared-0.txt", undefined], ["a.tar.gz", "0badc0de"], [
      ".bashrc",
      undefined,
    ], ["Makefile", undefined]] as const
  ) {
    const copy = conflictCopyPath(rel, "petting-zoo.mini", WHEN, tag);
    assert.deepEqual(parseConflictCopy(copy), { original: rel, stamp: "20261203-081655" }, copy);
  }
  for (
    const rel of [
      "docs/shared-0.txt",
      "notes.conflict.txt",
      "x.conflict-bravo-2026.txt",
      ".conflict-a-20261203-081655",
    ]
  ) {
    assert.equal(parseConflictCopy(rel), undefined, rel);
  }
  // A copy of a copy (as older tcfs made) counts as a copy of the first original.
  assert.equal(
    parseConflictCopy(
      "shared-0.conflict-bravo-20261203-081655.conflict-charlie-20261203-081654.txt",
    )
      ?.original,
    "shared-0.txt",
  );
});

Deno.test("a copy of a name near the 255-byte limit fits in it and still reads as a copy", () => {
  const bytes = (name: string) => new TextEncoder().encode(name).length;
  for (const name of ["n".repeat(251) + ".txt", "ü".repeat(126) + ".md", "a." + "e".repeat(252)]) {
    const copy = conflictCopyPath(`dir/${name}`, "yoga", WHEN, "0f3a9c1e");
    const base = copy.slice("dir/".length);
    assert.ok(bytes(base) <= 255, `${bytes(base)} bytes`);
    assert.ok(!base.includes("\uFFFD"));
    assert.equal(parseConflictCopy(copy)?.stamp, "20261203-081655");
  }
});
