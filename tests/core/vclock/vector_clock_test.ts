import assert from "node:assert/strict";
import {
  compareClocks,
  dominates,
  isVectorClock,
  mergeClocks,
  tickClock,
  type VectorClock,
} from "../../../core/vclock/vector_clock.ts";

const DEVICES = ["a", "b", "c", "d"];

/** A small deterministic generator, so failures reproduce. */
function makeRandom(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomClock(random: () => number): VectorClock {
  const clock: Record<string, number> = {};
  for (const d of DEVICES) if (random() < 0.6) clock[d] = Math.floor(random() * 4);
  return clock;
}

const canonical = (c: VectorClock) =>
  JSON.stringify(Object.fromEntries(Object.entries(c).filter(([, n]) => n > 0).sort()));

Deno.test("merge is commutative, associative and idempotent", () => {
  const random = makeRandom(7);
  for (let i = 0; i < 2000; i++) {
    const [x, y, z] = [randomClock(random), randomClock(random), randomClock(random)];
    assert.equal(canonical(mergeClocks(x, y)), canonical(mergeClocks(y, x)));
    assert.equal(
      canonical(mergeClocks(mergeClocks(x, y), z)),
      canonical(mergeClocks(x, mergeClocks(y, z))),
    );
    assert.equal(canonical(mergeClocks(x, x)), canonical(x));
  }
});

Deno.test("merge dominates both inputs, and a tick makes it strictly newer", () => {
  const random = makeRandom(11);
  for (let i = 0; i < 2000; i++) {
    const [x, y] = [randomClock(random), randomClock(random)];
    const merged = mergeClocks(x, y);
    assert.ok(dominates(merged, x) && dominates(merged, y));
    const ticked = tickClock(merged, DEVICES[i % DEVICES.length]);
    assert.equal(compareClocks(ticked, x), "after");
    assert.equal(compareClocks(x, ticked), "before");
  }
});

Deno.test("comparison is antisymmetric and concurrent is symmetric", () => {
  const random = makeRandom(13);
  const flip = {
    before: "after",
    after: "before",
    equal: "equal",
    concurrent: "concurrent",
  } as const;
  for (let i = 0; i < 2000; i++) {
    const [x, y] = [randomClock(random), randomClock(random)];
    assert.equal(compareClocks(y, x), flip[compareClocks(x, y)]);
  }
});

Deno.test("missing entries count as zero", () => {
  assert.equal(compareClocks({ a: 0 }, {}), "equal");
  assert.equal(compareClocks({ a: 1 }, { b: 1 }), "concurrent");
  assert.equal(compareClocks({ a: 1, b: 1 }, { b: 1 }), "after");
});

Deno.test("isVectorClock rejects hostile shapes", () => {
  assert.ok(isVectorClock({ a: 3 }));
  for (const bad of [null, [], "x", { a: -1 }, { a: 1.5 }, { a: "1" }, { a: 2 ** 60 }]) {
    assert.ok(!isVectorClock(bad), JSON.stringify(bad));
  }
});
