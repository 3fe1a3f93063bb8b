import assert from "node:assert/strict";
import { join } from "node:path";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { fileDigest } from "../../../core/remote/file_digest.ts";
import { digestLocalFile, localFileHasDigest } from "../../../core/sync/local_digest.ts";
import { randomBytes } from "../../support/random_bytes.ts";

Deno.test("the digest covers every chunk id and size, in order", async () => {
  const a = { id: await blake3Hex(new Uint8Array([1])), size: 1 };
  const b = { id: await blake3Hex(new Uint8Array([2])), size: 1 };
  const digests = new Set([
    await fileDigest([]),
    await fileDigest([a]),
    await fileDigest([a, b]),
    await fileDigest([b, a]),
    await fileDigest([a, { ...b, size: 2 }]),
  ]);
  assert.equal(digests.size, 5);
  assert.equal(await fileDigest([a, b]), await fileDigest([{ ...a }, { ...b }]));
  assert.match(await fileDigest([a]), /^[0-9a-f]{64}$/);
});

Deno.test("the digest of a known chunk list is what it always was", async () => {
  const chunks = [
    { id: await blake3Hex(new Uint8Array([1])), size: 1 },
    { id: await blake3Hex(new Uint8Array([2])), size: 2 ** 40 + 3 },
  ];
  assert.equal(
    await fileDigest(chunks),
    "95f6d53dfb1237885f05e46583c6b788f4c550d5614a9cdce524c2e40153716a",
  );
});

Deno.test("a local file matches its own digest, in either format, and not after an edit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "f.bin");
    const bytes = randomBytes(3 << 20, 41);
    await Deno.writeFile(path, bytes);
    const digest = await digestLocalFile(path);
    const plain = await blake3Hex(bytes);
    assert.notEqual(digest, plain);
    assert.equal(await localFileHasDigest(path, digest, { format: 2 }), true);
    assert.equal(await localFileHasDigest(path, plain, { format: 1 }), true);
    assert.equal(await localFileHasDigest(path, plain, { format: 2 }), false);
    assert.equal(await localFileHasDigest(path, digest, { format: 1 }), false);
    // A digest this device recorded, of either kind.
    assert.equal(await localFileHasDigest(path, digest), true);
    assert.equal(await localFileHasDigest(path, plain), true);
    bytes[1 << 20] ^= 1;
    await Deno.writeFile(path, bytes);
    assert.equal(await localFileHasDigest(path, digest), false);
    assert.equal(await localFileHasDigest(path, plain), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("format 3 digests are over keyed chunk ids: matched with the key, never without", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "f.bin");
    await Deno.writeFile(path, randomBytes(3 << 20, 42));
    const keys = { epoch: 1, sealKey: () => undefined, epochs: [], idKey: randomBytes(32, 43) };
    const keyed = await digestLocalFile(path, keys.idKey);
    const plain = await digestLocalFile(path);
    assert.notEqual(keyed, plain);
    assert.equal(await localFileHasDigest(path, keyed, { format: 3, keys }), true);
    assert.equal(await localFileHasDigest(path, plain, { format: 3, keys }), false);
    assert.equal(await localFileHasDigest(path, keyed, { format: 2, keys }), false);
    // A digest this device recorded: keyed (synced sealed) or plain (synced before the sealing).
    assert.equal(await localFileHasDigest(path, keyed, { keys }), true);
    assert.equal(await localFileHasDigest(path, plain, { keys }), true);
    assert.equal(await localFileHasDigest(path, keyed), false);
    await assert.rejects(
      localFileHasDigest(path, keyed, { format: 3 }),
      (err: Error & { kind?: string }) => err.kind === "not_approved",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
