import assert from "node:assert/strict";
import { compareKeys } from "../../../core/store/key_order.ts";

/** What S3 compares: the keys' UTF-8 bytes. */
function compareUtf8(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/** Code points from every UTF-8 length class, including both sides of the surrogate range. */
const ALPHABET = [
  "a",
  "/",
  ".",
  "z",
  "é",
  "\u07ff",
  "\u0800",
  "\ud7ff",
  "\ue000",
  "\uffff",
  "\u{10000}",
  "\u{10ffff}",
];

Deno.test("compareKeys orders random keys exactly as UTF-8 bytes do", () => {
  let state = 7;
  const next = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const key = () => Array.from({ length: next(6) }, () => ALPHABET[next(ALPHABET.length)]).join("");
  for (let i = 0; i < 5_000; i++) {
    const a = key();
    const b = key();
    assert.equal(Math.sign(compareKeys(a, b)), Math.sign(compareUtf8(a, b)), `${a} vs ${b}`);
  }
});
