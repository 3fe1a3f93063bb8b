import assert from "node:assert/strict";
import { createBoxOpener } from "../../../core/crypto/box_opener.ts";
import { firstKeychain, nextEpoch } from "../../../core/crypto/fleet_keychain.ts";
import { fleetKeysOf } from "../../../core/crypto/fleet_keys.ts";
import { sealStored } from "../../../core/crypto/sealed_object.ts";
import { encodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { TcfsError } from "../../../core/errors.ts";
import { randomBytes } from "../../support/random_bytes.ts";

const RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

Deno.test("the box opener opens in place, then on its thread, with every epoch, and reports damage as unsealing does", async () => {
  const first = firstKeychain(crypto.randomUUID(), RECIPIENT, undefined);
  const older = await fleetKeysOf(first);
  const keys = await fleetKeysOf(nextEpoch(first, first.written_by, () => true));
  using opener = createBoxOpener(keys);
  // 12 MiB of boxes: the first 8 MiB are opened in place, the rest on the worker.
  const plain = Array.from({ length: 12 }, (_, i) => encodeChunk(randomBytes(1 << 20, i)));
  const boxes = await Promise.all(
    plain.map((p, i) => sealStored(i % 2 ? keys : older, p, `chunk-${i}`)),
  );
  const opened = await Promise.all(boxes.map((box, i) => opener.open(box, `chunk-${i}`)));
  opened.forEach((o, i) => assert.deepEqual(o, plain[i], `box ${i}`));

  const moved = await opener.open(boxes[11], "chunk-10").catch((err) => err);
  assert.ok(moved instanceof TcfsError && moved.kind === "sealed_damaged", String(moved));
  const flipped = boxes[11].slice();
  flipped[flipped.length - 1] ^= 1;
  const damaged = await opener.open(flipped, "chunk-11").catch((err) => err);
  assert.ok(damaged instanceof TcfsError && damaged.kind === "sealed_damaged", String(damaged));
  const plaintext = encodeChunk(new TextEncoder().encode("as it is"));
  assert.deepEqual(await opener.open(plaintext, "x"), plaintext);
});
