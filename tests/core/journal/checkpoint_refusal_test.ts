import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { storeHeads } from "../../support/journal_store.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import {
  decodeCheckpoint,
  encodeJournalObject,
  JOURNAL_FORMAT,
} from "../../../core/journal/journal_codec.ts";
import { foldedPath } from "../../../core/journal/folded_versions.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import { checkpointKey, parseCheckpointKey } from "../../../core/remote/remote_keys.ts";

Deno.test("a checkpoint whose key claims more segments than its cursors cover is reported and not a start", async () => {
  const tmp = await makeScopedTempDir("tcfs-checkpoint-sum-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  try {
    for (const name of ["a1", "a2", "a3"]) {
      await Deno.writeTextFile(join(a.root, `${name}.txt`), `${name}\n`);
      await a.pushAll();
    }
    await Deno.writeTextFile(join(b.root, "b1.txt"), "b1\n");
    await b.pushAll();
    // Its key says 99 segments, its cursors 4: it would sort past honest checkpoints.
    const key = checkpointKey("default", 99, a.ctx.device.id);
    store.objects.set(
      key,
      await encodeJournalObject(
        {
          journal: JOURNAL_FORMAT,
          namespace: "default",
          author: a.ctx.device.id,
          written_at: new Date().toISOString(),
          cursors: { [a.ctx.device.id]: 3, [b.ctx.device.id]: 1 },
          revoked: {},
          versions: [],
        },
        key,
        undefined,
      ),
    );

    const read = await storeHeads(store);
    assert.equal(read.unreadable.length, 1, read.unreadable.map((e) => e.message).join("\n"));
    assert.equal(read.unreadable[0].kind, "corrupt_journal");
    assert.match(read.unreadable[0].message, /cover 4 segments, not the 99/);
    assert.deepEqual([...read.byPath.keys()].sort(), ["a1.txt", "a2.txt", "a3.txt", "b1.txt"]);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a checkpoint made before a revocation is no start: what the revoked device superseded comes back", async () => {
  const tmp = await makeScopedTempDir("tcfs-checkpoint-revoked-");
  const store = createMemoryStore();
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using m = await openSyncDevice(tmp.path, "mallory", store);
  Deno.env.set("TCFS_CHECKPOINT_EVERY", "3");
  try {
    await Deno.writeTextFile(join(a.root, "p.txt"), "by alpha\n");
    await a.pushAll();
    assert.deepEqual((await m.pullAll()).failures, []);
    // M is revoked now; nobody has noticed yet, and M writes on.
    const revokedAt = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await Deno.writeTextFile(join(m.root, "p.txt"), "by mallory, after revocation\n");
    await Deno.writeTextFile(join(m.root, "m.txt"), "mallory's own\n");
    await m.pushAll();
    await Deno.writeTextFile(join(a.root, "a2.txt"), "a2\n");
    await a.pushAll();

    // A folded M's versions into a checkpoint made under no revocation.
    const checkpoints = [...store.objects.keys()].filter(parseCheckpointKey);
    assert.equal(checkpoints.length, 1, checkpoints.join("\n"));
    const checkpoint = await decodeCheckpoint(
      store.objects.get(checkpoints[0])!,
      checkpoints[0],
      undefined,
    );
    assert.deepEqual(checkpoint.revoked ?? {}, {});
    assert.ok(checkpoint.versions.some((v) => v.author === m.ctx.device.id && v.path === "p.txt"));

    using c = await openSyncDevice(tmp.path, "gamma", store);
    c.ctx.revoked = new Map([[m.ctx.device.id, revokedAt]]);
    assert.deepEqual(await catchUp(c.ctx), []);
    const heads = foldedPath(c.ctx.state, trackedNamespace(c.ctx), "p.txt").heads;
    assert.deepEqual(heads.map((h) => h.version.author), [a.ctx.device.id]);
    assert.deepEqual(foldedPath(c.ctx.state, trackedNamespace(c.ctx), "m.txt").heads, []);
    assert.deepEqual((await c.pullAll()).failures, []);
    assert.equal(await Deno.readTextFile(join(c.root, "p.txt")), "by alpha\n");
    assert.equal(await Deno.readTextFile(join(c.root, "a2.txt")), "a2\n");
    await assert.rejects(Deno.stat(join(c.root, "m.txt")), Deno.errors.NotFound);
  } finally {
    Deno.env.delete("TCFS_CHECKPOINT_EVERY");
    await tmp.remove();
  }
});
