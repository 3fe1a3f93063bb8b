import assert from "node:assert/strict";
import { createBoxOpener } from "../../../core/crypto/box_opener.ts";
import { firstKeychain, nextEpoch } from "../../../core/crypto/fleet_keychain.ts";
import { fleetKeysOf } from "../../../core/crypto/fleet_keys.ts";
import { sealStored } from "../../../core/crypto/sealed_object.ts";
import { CHUNK_FORMAT_ZSTD, encodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { TcfsError } from "../../../core/errors.ts";
import { randomBytes } from "../../support/random_bytes.ts";

const RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

Deno.test("the box opener opens, decodes and hashes in place, then on its thread, with every epoch, and reports damage as unsealing does", async () => {
  const first = firstKeychain(crypto.randomUUID(), RECIPIENT, undefined);
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
