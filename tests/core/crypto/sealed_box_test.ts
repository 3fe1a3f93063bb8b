import assert from "node:assert/strict";
import { openBytes, sealBytes, SMALL_BOX_BYTES } from "../../../core/crypto/sealed_box.ts";
import { TcfsError } from "../../../core/errors.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";

const keys = await testFleetKeys();
const SIZES = [0, 1, 1500, SMALL_BOX_BYTES - 1, SMALL_BOX_BYTES, 1 << 20];

/** What WebCrypto alone makes of `plain`, laid out as a box: the reference for both paths. */
async function referenceBox(plain: Uint8Array, place: string): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: new TextEncoder().encode(place) },
    keys.sealKey(keys.epoch)!.subtle,
    plain as Uint8Array<ArrayBuffer>,
  );
  const box = new Uint8Array(16 + sealed.byteLength);
  new DataView(box.buffer).setUint32(0, keys.epoch);
  box.set(nonce, 4);
  box.set(new Uint8Array(sealed), 16);
  return box;
}

async function failure(promise: Promise<unknown>): Promise<TcfsError> {
  const err = await promise.then(() => undefined, (e) => e);
  assert.ok(err instanceof TcfsError, `expected a TcfsError, got ${err}`);
  return err;
}

Deno.test("boxes of every size open to what was sealed, and agree with plain WebCrypto", async () => {
  for (const [i, size] of SIZES.entries()) {
    const plain = randomBytes(size, 900 + i);
    const box = await sealBytes(keys, plain, `chunk-${i}`);
    assert.equal(box.length, size + 32, `${size} bytes: the box's length`);
    assert.deepEqual(await openBytes(keys, box, `chunk-${i}`), plain, `${size} bytes sealed`);
    const reference = await referenceBox(plain, `chunk-${i}`);
    assert.deepEqual(await openBytes(keys, reference, `chunk-${i}`), plain, `${size}: reference`);
    const opened = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: box.subarray(4, 16),
        additionalData: new TextEncoder().encode(`chunk-${i}`),
      },
      keys.sealKey(keys.epoch)!.subtle,
      box.subarray(16),
    );
    assert.deepEqual(new Uint8Array(opened), plain, `${size} bytes: WebCrypto opens our box`);
  }
});

Deno.test("an altered, truncated or moved box of any size fails as sealed_damaged", async () => {
  for (const [i, size] of SIZES.entries()) {
    const box = await sealBytes(keys, randomBytes(size, 950 + i), "here");
    for (const at of [4, 15, 16, box.length - 17, box.length - 1].filter((n) => n >= 4)) {
      const altered = box.slice();
      altered[at] ^= 0x10;
      const err = await failure(openBytes(keys, altered, "here"));
      assert.equal(err.kind, "sealed_damaged", `${size} bytes, bit flipped at ${at}`);
    }
    assert.equal((await failure(openBytes(keys, box, "there"))).kind, "sealed_damaged");
    const short = box.subarray(0, box.length - 1);
    assert.equal((await failure(openBytes(keys, short, "here"))).kind, "sealed_damaged");
    const otherEpoch = box.slice();
    otherEpoch[3] ^= 0x40;
    assert.equal((await failure(openBytes(keys, otherEpoch, "here"))).kind, "not_approved");
  }
});

Deno.test("plaintext sealed in pieces after free lead bytes opens to the pieces joined", async () => {
  for (const [i, size] of SIZES.entries()) {
    const plain = randomBytes(size, 970 + i);
    const cut = size >> 1;
    const place = `pieces-${i}`;
    const led = await sealBytes(keys, [plain.subarray(0, cut), plain.subarray(cut)], place, 3);
    assert.equal(led.length, 3 + size + 32, `${size} bytes: the led box's length`);
    assert.deepEqual([...led.subarray(0, 3)], [0, 0, 0], `${size} bytes: the lead is left free`);
    assert.deepEqual(await openBytes(keys, led.subarray(3), place), plain, `${size} bytes`);
  }
});
