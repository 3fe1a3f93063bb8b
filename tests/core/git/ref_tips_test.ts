import assert from "node:assert/strict";
import { chooseTip, conflictRefName } from "../../../core/git/ref_tips.ts";
import { formatPackedRefs, parsePackedRefs } from "../../../core/git/packed_refs.ts";

const [C1, C2, C3] = ["1".repeat(40), "2".repeat(40), "3".repeat(40)];

Deno.test("concurrent tips: the smallest device name wins, the others are kept", async () => {
  const unrelated = () => Promise.resolve(false);
  const choice = await chooseTip(
    [{ device: "bravo", value: C2 }, { device: "alpha", value: C1 }, {
      device: "charlie",
      value: C3,
    }],
    unrelated,
  );
  assert.deepEqual(choice.winner, { device: "alpha", value: C1 });
  assert.deepEqual(choice.kept, [{ device: "bravo", value: C2 }, { device: "charlie", value: C3 }]);
});

Deno.test("a tip another descends from is history, not a conflict", async () => {
  // C2 descends from C1: bravo's fast-forward wins although alpha's name is smaller.
  const ancestry = (a: string, b: string) => Promise.resolve(a === C1 && b === C2);
  const choice = await chooseTip(
    [{ device: "alpha", value: C1 }, { device: "bravo", value: C2 }],
    ancestry,
  );
  assert.deepEqual(choice.winner, { device: "bravo", value: C2 });
  assert.deepEqual(choice.kept, []);
});

Deno.test("a tip whose ancestry is unknown (no git, object missing) is kept", async () => {
  const choice = await chooseTip(
    [{ device: "alpha", value: C1 }, { device: "bravo", value: C2 }],
    () => Promise.resolve(undefined),
  );
  assert.equal(choice.winner.value, C1);
  assert.deepEqual(choice.kept, [{ device: "bravo", value: C2 }]);
});

Deno.test("equal values are one tip; a symbolic HEAD keeps nothing beside it", async () => {
  const same = await chooseTip(
    [{ device: "bravo", value: C1 }, { device: "alpha", value: C1 }],
    () => Promise.resolve(false),
  );
  assert.deepEqual(same, { winner: { device: "alpha", value: C1 }, kept: [] });
  const head = await chooseTip(
    [{ device: "alpha", value: "ref: refs/heads/b" }, {
      device: "bravo",
      value: "ref: refs/heads/a",
    }],
    () => Promise.reject(new Error("symbolic refs have no ancestry")),
  );
  assert.deepEqual(head, { winner: { device: "alpha", value: "ref: refs/heads/b" }, kept: [] });
});

Deno.test("a kept tip's ref names the device, the branch and the commit", () => {
  assert.equal(
    conflictRefName("bravo", "refs/heads/feature/x", C2),
    "refs/tcfs-conflicts/bravo/feature/x@222222222222",
  );
  assert.equal(
    conflictRefName("my laptop", "refs/tags/v1", C1),
    "refs/tcfs-conflicts/my-laptop/tags/v1@111111111111",
  );
  assert.equal(conflictRefName("..x", "HEAD", C3), "refs/tcfs-conflicts/x/HEAD@333333333333");
  assert.equal(
    conflictRefName("a..b.", "refs/heads/m", C3),
    "refs/tcfs-conflicts/a.b/m@333333333333",
  );
});

Deno.test("packed-refs: peeled lines and the header drop, names sort", () => {
  const text =
    `# pack-refs with: peeled fully-peeled sorted \n${C2} refs/tags/v1\n^${C3}\n${C1} refs/heads/main\n`;
  const refs = parsePackedRefs(text);
  assert.deepEqual([...refs], [["refs/tags/v1", C2], ["refs/heads/main", C1]]);
  assert.equal(
    formatPackedRefs(refs),
    `# pack-refs with: sorted \n${C1} refs/heads/main\n${C2} refs/tags/v1\n`,
  );
});
