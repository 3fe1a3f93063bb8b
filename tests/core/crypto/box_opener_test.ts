import assert from "node:assert/strict";
import { createBoxOpener } from "../../../core/crypto/box_opener.ts";
import { firstKeychain, nextEpoch } from "../../../core/crypto/fleet_keychain.ts";
import { fleetKeysOf } from "../../../core/crypto/fleet_keys.ts";
import { sealStored } from "../../../core/crypto/sealed_object.ts";
import { CHUNK_FORMAT_ZSTD, encodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { TcfsError } from "../../../core/errors.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { TEST_RECIPIENT, testFleetKeys } from "../../support/test_fleet_keys.ts";

Deno.test("the box opener opens, decodes and hashes in place, then on its thread, with every epoch, and reports damage as unsealing does", async () => {
  const first = firstKeychain(crypto.randomUUID(), TEST_RECIPIENT, undefined);
  const older = await fleetKeysOf(first);
  const keys = await fleetKeysOf(nextEpoch(first, first.written_by, () => true));
  using opener = createBoxOpener(keys);
  // 12 MiB of boxes: the first 8 MiB are opened in place, the rest on the worker. The last is
  // random letters, which zstd compresses (to some 600 KiB, still sent to the worker).
  const raws = Array.from({ length: 12 }, (_, i) => randomBytes(1 << 20, i));
  raws[11] = raws[11].map((b) => 0x61 + b % 26);
  const stored = raws.map((raw) => encodeChunk(raw));
  assert.equal(stored[11][0], CHUNK_FORMAT_ZSTD);
  const boxes = await Promise.all(
    stored.map((s, i) => sealStored(i % 2 ? keys : older, s, `chunk-${i}`)),
  );
  // Keyed ids (format 3 versions) and plain ones alike.
  const idKeyOf = (i: number) => i % 3 ? keys.idKey : undefined;
  const opened = await Promise.all(
    boxes.map((box, i) => opener.open(box, `chunk-${i}`, idKeyOf(i))),
  );
  for (const [i, { id, bytes }] of opened.entries()) {
    assert.deepEqual(bytes, raws[i], `box ${i}`);
    assert.equal(id, await blake3Hex(raws[i], idKeyOf(i)), `box ${i}`);
    // The worker gets a copy, which it frees once opened: the caller's bytes (often a slice of a
    // range its neighbours share) are left whole.
    assert.equal(boxes[i].buffer.detached, false, `box ${i}`);
    assert.deepEqual(await opener.open(boxes[i], `chunk-${i}`, idKeyOf(i)), opened[i], `box ${i}`);
  }
  // A stored form sent unsealed to the worker comes back as a view of the copy it was sent,
  // which the worker must not free.
  const unsealed = await opener.open(stored[0], "chunk-0");
  assert.deepEqual(unsealed, { id: await blake3Hex(raws[0]), bytes: raws[0] });

  const moved = await opener.open(boxes[11], "chunk-10").catch((err) => err);
  assert.ok(moved instanceof TcfsError && moved.kind === "sealed_damaged", String(moved));
  const flipped = boxes[11].slice();
  flipped[flipped.length - 1] ^= 1;
  const damaged = await opener.open(flipped, "chunk-11").catch((err) => err);
  assert.ok(damaged instanceof TcfsError && damaged.kind === "sealed_damaged", String(damaged));
  const text = new TextEncoder().encode("as it is");
  const plain = await opener.open(encodeChunk(text), "x");
  assert.deepEqual(plain, { id: await blake3Hex(text), bytes: text });
});

Deno.test("a run of boxes opens on the opener's thread, each slice answered with its raw bytes and id or its own damage, and the run moves there", async () => {
  const keys = await testFleetKeys();
  using opener = createBoxOpener(keys);
  assert.equal(opener.offloadsFor(1 << 20), false, "a new opener opens 1 MiB in place");
  // 150 small boxes (more than one answer holds) laid side by side, as a pack holds them.
  const raws = Array.from({ length: 150 }, (_, i) => randomBytes(100 + i * 37, i));
  const idKeyOf = (i: number) => i % 2 ? keys.idKey : undefined;
  const boxes = await Promise.all(
    raws.map((raw, i) => sealStored(keys, encodeChunk(raw), `chunk-${i}`)),
  );
  const run = new Uint8Array(boxes.reduce((n, box) => n + box.length, 0));
  const slices = [];
  let at = 0;
  for (const [i, box] of boxes.entries()) {
    run.set(box, at);
    slices.push({ at, length: box.length, place: `chunk-${i}`, idKey: idKeyOf(i) });
    at += box.length;
  }
  // One box altered, one bound to another place: each fails alone.
  run[slices[7].at + 20] ^= 1;
  slices[9].place = "chunk-moved";
  const answers = await Promise.all(opener.openRun(run, slices));
  assert.equal(opener.offloadsFor(0), true, "once it has a thread, it keeps sending work there");
  assert.equal(run.buffer.detached, true, "the run moved to the thread instead of being copied");
  for (const [i, answer] of answers.entries()) {
    if (i === 7 || i === 9) {
      assert.ok(answer instanceof TcfsError && answer.kind === "sealed_damaged", String(answer));
      continue;
    }
    assert.ok(!(answer instanceof TcfsError), `slice ${i}: ${answer}`);
    assert.deepEqual(answer.bytes, raws[i], `slice ${i}`);
    assert.equal(answer.id, await blake3Hex(raws[i], idKeyOf(i)), `slice ${i}`);
  }
});

Deno.test("a closed opener answers a run with its closing, and the caller's run stays whole", async () => {
  const keys = await testFleetKeys();
  const opener = createBoxOpener(keys);
  opener[Symbol.dispose]();
  assert.equal(opener.offloadsFor(1 << 30), false);
  const run = new Uint8Array(64);
  const [answer] = opener.openRun(run, [{ at: 0, length: 64, place: "x" }]);
  await assert.rejects(answer, /the box opener is closed/);
  assert.equal(run.buffer.detached, false);
});
