import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFileStoreDevices } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { openSyncDevice } from "../support/sync_device.ts";
import { assertSameTree } from "../support/tree_compare.ts";
import { createFsStore } from "../../core/store/fs_store.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { CHECKPOINT_EVERY_SEGMENTS } from "../../core/journal/journal_checkpoint.ts";
import { decodeSegment } from "../../core/journal/journal_codec.ts";
import { parseCheckpointKey, parseSegmentKey } from "../../core/remote/remote_keys.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** A killed process exits with 128 + SIGKILL. */
const KILLED = 137;

async function keysOf(store: ObjectStore, prefix: string): Promise<string[]> {
  return (await Array.fromAsync(store.list(prefix))).map((info) => info.key);
}

/** Every version in every segment of the namespace, as "path by author". */
async function segmentVersions(store: ObjectStore): Promise<string[]> {
  const versions: string[] = [];
  for (const key of (await keysOf(store, "ns/default/j/")).filter((k) => parseSegmentKey(k))) {
    const segment = await decodeSegment((await store.get(key))!, key, undefined);
    versions.push(...segment.versions.map((v) => `${v.path} by ${v.author_name}`));
  }
  return versions.sort();
}

Deno.test("a push killed between its segment and its checkpoint loses and repeats nothing; a later push writes the checkpoint", async () => {
  const tmp = await makeScopedTempDir("tcfs-journal-killed-push-");
  const [a, b] = await makeFileStoreDevices(tmp.path, "devA", "devB");
  const store = createFsStore(join(tmp.path, "store"));
  try {
    // Another device has written one segment short of a checkpoint's worth.
    {
      using p = await openSyncDevice(tmp.path, "devP", store);
      await Deno.mkdir(join(p.root, "docs"));
      for (let i = 0; i < CHECKPOINT_EVERY_SEGMENTS - 1; i++) {
        await Deno.writeTextFile(join(p.root, `docs/p-${i}.txt`), `p ${i}\n`);
        await p.pushAll();
      }
    }
    assert.deepEqual(await keysOf(store, "ns/default/cp/"), []);

    const docsA = join(a.home, "docs");
    await Deno.mkdir(docsA);
    await Deno.writeTextFile(join(docsA, "a.txt"), "from A\n");
    const killed = await a.tcfs(["push", docsA, "tcfs/default/docs", "--json"], {
      env: { TCFS_CRASH_AT: "before-checkpoint" },
    });
    assert.equal(killed.code, KILLED, killed.stderr);
    // The segment is written, the checkpoint due with it is not.
    assert.equal(
      (await keysOf(store, `ns/default/j/`)).filter((k) => parseSegmentKey(k)).length,
      64,
    );
    assert.deepEqual(await keysOf(store, "ns/default/cp/"), []);

    // Another device sees A's file; A's next pull and push find nothing to do again.
    const docsB = join(b.home, "docs");
    const pulledB = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", docsB]);
    assert.deepEqual(pulledB.failures, []);
    assert.equal(pulledB.files, CHECKPOINT_EVERY_SEGMENTS);
    assert.equal(await Deno.readTextFile(join(docsB, "a.txt")), "from A\n");
    const pulledA = await a.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", docsA]);
    assert.deepEqual(pulledA.failures, []);
    assert.equal(pulledA.files, CHECKPOINT_EVERY_SEGMENTS - 1);
    await assertSameTree(docsA, docsB);
    const pushedA = await a.tcfsJson<PushSummary>(["push", docsA, "tcfs/default/docs"]);
    assert.equal(pushedA.files, 0);

    // That push wrote the checkpoint the killed one owed, covering every segment.
    const checkpoints = await keysOf(store, "ns/default/cp/");
    assert.equal(checkpoints.length, 1);
    assert.equal(parseCheckpointKey(checkpoints[0])!.covered, CHECKPOINT_EVERY_SEGMENTS);
    const versions = await segmentVersions(store);
    assert.equal(versions.length, CHECKPOINT_EVERY_SEGMENTS);
    assert.deepEqual(versions.filter((v) => v.startsWith("docs/a.txt")), ["docs/a.txt by devA"]);

    // Edits on both sides still travel: nothing is stuck behind the kill.
    await Deno.writeTextFile(join(docsB, "a.txt"), "edited on B\n");
    await b.tcfsJson<PushSummary>(["push", docsB, "tcfs/default/docs"]);
    await a.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", docsA]);
    assert.equal(await Deno.readTextFile(join(docsA, "a.txt")), "edited on B\n");
  } finally {
    store.close();
    await tmp.remove();
  }
});
