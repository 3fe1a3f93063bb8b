import assert from "node:assert/strict";
import { blake3Hex, createBlake3Hasher } from "../../../core/hashing/blake3.ts";
import { randomBytes } from "../../support/random_bytes.ts";

const encoder = new TextEncoder();

Deno.test("blake3Hex matches the BLAKE3 known answers", async () => {
  assert.equal(
    await blake3Hex(new Uint8Array(0)),
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
  );
  assert.equal(
    await blake3Hex(encoder.encode("abc")),
    "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
  );
});

Deno.test("the incremental hasher matches the BLAKE3 known answers", async () => {
  const empty = await createBlake3Hasher();
  assert.equal(
    empty.digestHex(),
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
  );
  const abc = await createBlake3Hasher();
  for (const letter of "abc") abc.update(encoder.encode(letter));
  assert.equal(abc.digestHex(), "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
});

Deno.test("incremental hashing equals one-shot hashing across random splits", async () => {
  // Seeded random words pick the sizes, so every failure reproduces.
  const words = new Uint32Array(randomBytes(4 * 8192, 17).buffer);
  let w = 0;
  const next = () => words[w++ % words.length];
  for (let iteration = 0; iteration < 50; iteration++) {
    const data = randomBytes(next() % 300_000, iteration + 1);
    const hasher = await createBlake3Hasher();
    for (let at = 0; at < data.length;) {
      const size = Math.min(1 + next() % 70_000, data.length - at);
      hasher.update(data.subarray(at, at + size));
      at += size;
    }
    assert.equal(hasher.digestHex(), await blake3Hex(data), `iteration ${iteration}`);
  }
});

Deno.test("concurrent hashers and one-shot hashes do not mix their inputs", async () => {
  const inputs = Array.from({ length: 6 }, (_, i) => randomBytes(200_000 + i, i + 40));
  const expected = await Promise.all(inputs.map((input) => blake3Hex(input)));
  const hashers = await Promise.all(inputs.map(() => createBlake3Hasher()));
  for (let at = 0; at < 200_006; at += 10_000) {
    // Every hasher gets its next piece, with one-shot hashes and awaits in between.
    await Promise.all(hashers.map(async (hasher, i) => {
      hasher.update(inputs[i].subarray(at, at + 10_000));
      assert.equal(await blake3Hex(inputs[i]), expected[i]);
    }));
  }
  assert.deepEqual(hashers.map((hasher) => hasher.digestHex()), expected);
});

Deno.test("a hasher cannot be used after digestHex", async () => {
  const hasher = await createBlake3Hasher();
  hasher.update(encoder.encode("abc"));
  hasher.digestHex();
  assert.throws(() => hasher.update(encoder.encode("more")), /after digestHex/);
  assert.throws(() => hasher.digestHex(), /after digestHex/);
  // Its instance went back to the pool and hashes correctly for the next user.
  const next = await createBlake3Hasher();
  next.update(encoder.encode("abc"));
  assert.equal(
    next.digestHex(),
    "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
  );
});

Deno.test("keyed BLAKE3 matches the known answer, one-shot and incremental alike", async () => {
  // The BLAKE3 test vectors' key, and their keyed hash of the empty input.
  const key = encoder.encode("whats the Elvish word for friend");
  const expected = "92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26";
  assert.equal(await blake3Hex(new Uint8Array(0), key), expected);
  assert.equal((await createBlake3Hasher(key)).digestHex(), expected);
});

Deno.test("pooled keyed and plain hashers never mix their keys", async () => {
  const keyA = randomBytes(32, 1);
  const keyB = randomBytes(32, 2);
  const data = randomBytes(100_000, 3);
  const plain = await blake3Hex(data);
  const [a, b] = [await blake3Hex(data, keyA), await blake3Hex(data, keyB)];
  assert.equal(new Set([plain, a, b]).size, 3);
  // Many hashers of each kind at once, returned to their pools and taken again.
  for (let round = 0; round < 3; round++) {
    const hashers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createBlake3Hasher([undefined, keyA, keyB][i % 3])),
    );
    for (const hasher of hashers) hasher.update(data);
    hashers.forEach((hasher, i) => assert.equal(hasher.digestHex(), [plain, a, b][i % 3]));
  }
  // A copy of a key (a keychain read again) hashes the same.
  assert.equal(await blake3Hex(data, keyA.slice()), a);
});
