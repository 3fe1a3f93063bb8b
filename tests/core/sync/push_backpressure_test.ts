import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { push } from "../../../core/sync/push.ts";
import { parseSegmentKey } from "../../../core/remote/remote_keys.ts";
import { SEGMENT_MAX_VERSIONS } from "../../../core/journal/journal_codec.ts";
import { foldedNamespace } from "../../../core/journal/folded_versions.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";

Deno.test("a push stops reading files while its versions wait for segments the store has not taken", async () => {
  const tmp = await makeScopedTempDir("tcfs-push-backpressure-");
  const memory = createMemoryStore();
  const release = Promise.withResolvers<void>();
  let segmentsAsked = 0;
  const store = {
    ...memory,
    putConditional: async (...args: Parameters<typeof memory.putConditional>) => {
      if (parseSegmentKey(args[0])) {
        segmentsAsked++;
        await release.promise;
      }
      return await memory.putConditional(...args);
    },
  };
  using device = await openSyncDevice(tmp.path, "alpha", store);
  try {
    // 4 KiB of random bytes each: about a thousand files fill a pack.
    const files = 5 * SEGMENT_MAX_VERSIONS;
    const size = 4096;
    for (let i = 0; i < files; i++) {
      await Deno.writeFile(join(device.root, `f${i}.bin`), randomBytes(size, 1500 + i));
    }
    let bytesRead = 0;
    const pushing = push(device.ctx, {
      localPath: device.root,
      remoteRel: "",
      excludes: [],
      onProgress: (p) => bytesRead = p.bytesDone,
    });
    // Wait until reading stalls behind the first segment.
    for (let last = -1; last !== bytesRead || segmentsAsked === 0;) {
      last = bytesRead;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    // Two segments' worth wait for their segment, one more pack's worth waits for its pack to
    // fill, and each of the 32 staging slots may hold one file: not the whole tree.
    const read = bytesRead / size;
    assert.ok(read < files, `${read} of ${files} files read`);
    assert.ok(read <= 2 * SEGMENT_MAX_VERSIONS + 1100 + 32, `${read} files read`);
    release.resolve();
    const summary = await pushing;
    assert.equal(summary.files, files);
    assert.equal(
      foldedNamespace(device.ctx.state, trackedNamespace(device.ctx), () => true).size,
      files,
    );
  } finally {
    release.resolve();
    await tmp.remove();
  }
});
