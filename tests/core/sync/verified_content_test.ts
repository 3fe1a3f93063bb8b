import assert from "node:assert/strict";
import { createMemoryStore } from "../../support/memory_store.ts";
import { sealedVersion } from "../../support/sealed_version.ts";
import { createBoxOpener } from "../../../core/crypto/box_opener.ts";
import { blake3Hex } from "../../../core/hashing/blake3.ts";
import { packKey } from "../../../core/remote/remote_keys.ts";
import { readVerifiedContent } from "../../../core/sync/verified_content.ts";
import { TcfsError } from "../../../core/errors.ts";
import { testFleetKeys } from "../../support/test_fleet_keys.ts";

Deno.test("a chunk whose box is damaged is that file's damage; an opener that cannot open at all stops the read with its own error", async () => {
  const store = createMemoryStore();
  const keys = await testFleetKeys();
  const bytes = new TextEncoder().encode("a sealed chunk\n".repeat(100));
  const id = await blake3Hex(bytes, keys.idKey);
  const { version, ref } = await sealedVersion(store, keys, "x.txt", id, bytes);
  const counters = { chunksDownloaded: 0, bytesDownloaded: 0 };
  const read = (opener: ReturnType<typeof createBoxOpener>) =>
    readVerifiedContent(store, version, { counters, keys, opener }, () => Promise.resolve());
  using opener = createBoxOpener(keys);
  await read(opener);

  const closed = createBoxOpener(keys);
  closed[Symbol.dispose]();
  await assert.rejects(read(closed), (err: TcfsError) => {
    assert.equal(err.kind, "error", "not taken for the chunk's damage");
    assert.match(err.message, /the box opener is closed/);
    return true;
  });

  store.objects.get(packKey(ref.pack!))![ref.offset! + 40] ^= 1;
  await assert.rejects(read(opener), (err: TcfsError) => {
    assert.equal(err.kind, "corrupt_chunk");
    assert.match(err.message, /x\.txt: chunk [0-9a-f]+ is corrupt/);
    return true;
  });
});
