import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { createPackWriter } from "../../../core/sync/pack_writer.ts";
import {
  saveFile,
  SHARED_LOOKAHEAD_BYTES,
  type SharedLookahead,
} from "../../../core/sync/file_saver.ts";
import { DEFAULT_CHUNK_SIZES } from "../../../core/chunking/fastcdc.ts";
import { decodeChunk } from "../../../core/chunking/chunk_codec.ts";
import { concatBytes } from "../../../core/encoding/concat_bytes.ts";
import { packKey } from "../../../core/remote/remote_keys.ts";
import { trueWithin } from "../../support/deadlines.ts";

Deno.test("files saved at once run ahead of their placing together within one shared budget", async () => {
  const tmp = await makeScopedTempDir("tcfs-lookahead-");
  try {
    const files = 8;
    const datas = Array.from({ length: files }, (_, i) => randomBytes(8 << 20, 1400 + i));
    for (const [i, data] of datas.entries()) await Deno.writeFile(join(tmp.path, `${i}`), data);
    // Uploads wait until released: the files' chunks pile up ahead of their placing.
    const memory = createMemoryStore();
    const release = Promise.withResolvers<void>();
    const store = {
      ...memory,
      put: async (...args: Parameters<typeof memory.put>) => {
        await release.promise;
        return await memory.put(...args);
      },
    };
    // A lane each, so that all eight are saved at once (by default, all but two would wait).
    const packs = createPackWriter(store, { lanes: files });
    const lookahead: SharedLookahead = { bytes: 0 };
    let most = 0;
    const saving = datas.map((_, i) =>
      saveFile(join(tmp.path, `${i}`), packs, {
        lookahead,
        onBytes: () => most = Math.max(most, lookahead.bytes),
      })
    );
    const sampler = setInterval(() => most = Math.max(most, lookahead.bytes), 5);
    await trueWithin(() => most >= SHARED_LOOKAHEAD_BYTES, 20_000, "the budget to fill");
    // Given a while longer, they still keep within it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    clearInterval(sampler);
    // Each file alone would run 4 MiB ahead: 32 MiB together.
    assert.ok(most >= SHARED_LOOKAHEAD_BYTES, `${most} bytes ahead at most`);
    assert.ok(most <= SHARED_LOOKAHEAD_BYTES + files * DEFAULT_CHUNK_SIZES.max, `${most} bytes`);
    release.resolve();
    const saved = await Promise.all(saving);
    packs.flush();
    await Promise.all(saved.map((s) => s.durable));
    assert.equal(lookahead.bytes, 0, "every file gave back what it had ahead");
    for (const [i, { content }] of saved.entries()) {
      const chunks = [];
      for (const ref of content.chunks) {
        const pack = memory.objects.get(packKey(ref.pack!))!;
        chunks.push(await decodeChunk(pack.subarray(ref.offset!, ref.offset! + ref.length!)));
      }
      assert.deepEqual(concatBytes(chunks), datas[i], `file ${i}`);
    }
  } finally {
    await tmp.remove();
  }
});
