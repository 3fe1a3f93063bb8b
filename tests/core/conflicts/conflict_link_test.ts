/**
 * Resolving a conflict writes beside the conflicted file (its copy, the winner); when that
 * file's folder has become a link since, nothing is written through it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { resolveConflict } from "../../../core/conflicts/conflict_resolver.ts";

Deno.test("a conflict whose folder became a link is not resolved through it", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-conflict-link-" });
  try {
    const store = createMemoryStore();
    using alpha = await openSyncDevice(tmp, "alpha", store);
    using bravo = await openSyncDevice(tmp, "bravo", store);
    await Deno.mkdir(join(alpha.root, "d"));
    await Deno.writeTextFile(join(alpha.root, "d", "x.txt"), "one\n");
    await alpha.pushAll();
    await bravo.pullAll();
    await Deno.writeTextFile(join(alpha.root, "d", "x.txt"), "alpha\n");
    await alpha.pushAll();
    await Deno.writeTextFile(join(bravo.root, "d", "x.txt"), "bravo\n");
    const pushed = await bravo.pushAll();
    assert.deepEqual(pushed.conflicts.length, 1, JSON.stringify(pushed));
    // The folder is swapped for a link to a folder elsewhere holding a file of that name.
    const outside = join(tmp, "outside");
    await Deno.mkdir(outside);
    await Deno.writeTextFile(join(outside, "x.txt"), "bravo\n");
    await Deno.remove(join(bravo.root, "d"), { recursive: true });
    await Deno.symlink(outside, join(bravo.root, "d"));
    for (const resolution of ["keep_both", "keep_remote"] as const) {
      await assert.rejects(
        resolveConflict(
          bravo.ctx,
          { rel: "d/x.txt", localPath: join(bravo.root, "d", "x.txt") },
          resolution,
        ),
        /symlink/,
      );
      assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["x.txt"]);
      assert.equal(await Deno.readTextFile(join(outside, "x.txt")), "bravo\n");
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
