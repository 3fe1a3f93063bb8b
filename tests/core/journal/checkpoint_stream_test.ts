import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import {
  type Checkpoint,
  decodeCheckpoint,
  encodeJournalPieces,
  encodeJournalText,
} from "../../../core/journal/journal_codec.ts";
import { foldedNamespace } from "../../../core/journal/folded_versions.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import { checkpointKey, parseCheckpointKey } from "../../../core/remote/remote_keys.ts";
import { unsealStored } from "../../../core/crypto/sealed_object.ts";
import { decodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { TcfsError } from "../../../core/errors.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";

const keys = await testFleetKeys();

/** A device's push of `files` small files, its checkpoint written on that push. */
async function pushedCheckpoint(files: number) {
  const tmp = await makeScopedTempDir("tcfs-checkpoint-stream-");
  const memory = createMemoryStore();
  const device = await openSyncDevice(tmp.path, "alpha", memory);
  for (let i = 0; i < files; i++) {
    await Deno.writeTextFile(join(device.root, `file-${i}.txt`), `file ${i}\n`);
  }
  const every = Deno.env.get("TCFS_CHECKPOINT_EVERY");
  Deno.env.set("TCFS_CHECKPOINT_EVERY", "1");
  try {
    await device.pushAll();
  } finally {
    if (every === undefined) Deno.env.delete("TCFS_CHECKPOINT_EVERY");
    else Deno.env.set("TCFS_CHECKPOINT_EVERY", every);
  }
  const [key, ...others] = [...memory.objects.keys()].filter(parseCheckpointKey);
  assert.deepEqual(others, []);
  return { tmp, device, key, body: memory.objects.get(key)! };
}

/** The JSON text inside a stored journal object. */
async function textOf(stored: Uint8Array, key: string, sealedWith = keys): Promise<Uint8Array> {
  return await decodeChunk(await unsealStored(sealedWith, stored, key), {
    maxRawSize: 1 << 30,
  });
}

/** `text` cut at random places into pieces of up to `most` bytes. */
function* randomPieces(text: Uint8Array, most: number): Generator<Uint8Array> {
  for (let at = 0; at < text.length;) {
    const next = Math.min(text.length, at + 1 + Math.floor(Math.random() * most));
    yield text.slice(at, next);
    at = next;
  }
}

Deno.test("a checkpoint written in pieces holds the writer's whole fold, across pieces of its text", async () => {
  // 2,500 versions make more than one 1 MiB piece of text.
  const { tmp, device, key, body } = await pushedCheckpoint(2_500);
  try {
    const text = await textOf(body, key);
    assert.ok(text.length > 1024 * 1024, `${text.length} bytes`);
    const checkpoint = await decodeCheckpoint(body, key, undefined);
    const folded = foldedNamespace(device.ctx.state, trackedNamespace(device.ctx), () => true);
    assert.equal(checkpoint.versions.length, 2_500);
    assert.deepEqual(
      checkpoint.versions.map((v) => v.path).sort(),
      [...folded.keys()].sort(),
    );
    for (const version of checkpoint.versions) {
      assert.deepEqual(version, folded.get(version.path)!.heads[0].version);
    }
    // The text is what one piece would have been: the same JSON, byte for byte.
    assert.deepEqual(text, new TextEncoder().encode(JSON.stringify(JSON.parse(decode(text)))));
  } finally {
    device[Symbol.dispose]();
    await tmp.remove();
  }
});

Deno.test("a journal object encoded in pieces reads back byte for byte as the one-piece encoding, plain and sealed", async () => {
  const { tmp, device, key, body } = await pushedCheckpoint(40);
  device[Symbol.dispose]();
  await tmp.remove();
  // A text of several MiB: the checkpoint's versions many times over.
  const one = await decodeCheckpoint(body, key, undefined);
  const big: Checkpoint = { ...one, versions: Array(150).fill(one.versions).flat() };
  const text = new TextEncoder().encode(JSON.stringify(big));
  assert.ok(text.length > 2 * 1024 * 1024, `${text.length} bytes`);
  for (const sealedWith of [undefined, keys]) {
    const whole = await encodeJournalText(text, key, sealedWith);
    const pieces = await encodeJournalPieces(
      randomPieces(text, 200_000),
      text.length,
      key,
      sealedWith,
    );
    assert.equal(pieces[0], whole[0], "the same format byte");
    assert.deepEqual(await textOf(pieces, key, keys), text);
    assert.deepEqual(
      await decodeCheckpoint(pieces, key, sealedWith),
      await decodeCheckpoint(whole, key, sealedWith),
    );
    if (sealedWith) {
      // Bound to its key like any sealed object: moved elsewhere, it does not open.
      const { namespace, covered, device: author } = parseCheckpointKey(key)!;
      const elsewhere = checkpointKey(namespace, covered, author);
      await assert.rejects(() => decodeCheckpoint(pieces, elsewhere, sealedWith));
    }
  }
});

Deno.test("pieces that do not add up to the size given are refused, not stored short", async () => {
  const text = new TextEncoder().encode(JSON.stringify({ journal: 1, versions: [] }));
  for (const size of [text.length - 1, text.length + 1]) {
    const err = await encodeJournalPieces([text.subarray(0, 5), text.subarray(5)], size, "k", keys)
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof TcfsError, `size ${size}: ${err}`);
  }
});

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
