import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { withFaults } from "../../support/faulty_store.ts";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import { CHECKPOINT_EVERY_SEGMENTS } from "../../../core/journal/journal_checkpoint.ts";
import { foldedNamespace } from "../../../core/journal/folded_versions.ts";
import { trackedNamespace } from "../../../core/sync/sync_context.ts";
import { parseCheckpointKey, parseSegmentKey } from "../../../core/remote/remote_keys.ts";

/** Path → its heads' and kept versions' keys and bodies, as `device` folded them. */
function foldOf(device: SyncDevice): Map<string, string> {
  const folded = foldedNamespace(device.ctx.state, trackedNamespace(device.ctx), () => true);
  return new Map(
    [...folded].map(([path, { heads, kept }]) => [path, JSON.stringify({ heads, kept })]),
  );
}

Deno.test("a new device starts from the checkpoint and reads only the segments after it", async () => {
  const tmp = await makeScopedTempDir("tcfs-checkpoint-use-");
  const memory = createMemoryStore();
  const store = withFaults(memory);
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  try {
    // Two devices push a segment each per round: edits, new files and one deletion.
    const rounds = CHECKPOINT_EVERY_SEGMENTS / 2 + 4;
    for (let round = 0; round < rounds; round++) {
      await Deno.writeTextFile(join(a.root, `a-${round % 5}.txt`), `a, round ${round}\n`);
      if (round === 0) await Deno.writeTextFile(join(a.root, "gone.txt"), "deleted later\n");
      if (round === 20) await Deno.remove(join(a.root, "gone.txt"));
      await a.pushAll();
      await Deno.writeTextFile(join(b.root, `b-${round}.txt`), `b, round ${round}\n`);
      await b.pushAll();
    }
    const segments = [...memory.objects.keys()].filter(parseSegmentKey);
    assert.equal(segments.length, 2 * rounds);
    const checkpoints = [...memory.objects.keys()].filter(parseCheckpointKey);
    assert.equal(checkpoints.length, 1, checkpoints.join("\n"));
    const covered = parseCheckpointKey(checkpoints[0])!.covered;
    assert.ok(covered >= CHECKPOINT_EVERY_SEGMENTS && covered < segments.length, `${covered}`);

    using c = await openSyncDevice(tmp.path, "gamma", store);
    const from = store.requests.length;
    assert.deepEqual(await catchUp(c.ctx), []);
    const gets = store.requests.slice(from).filter((r) => r.op === "get").map((r) => r.key);
    assert.deepEqual(gets.filter((key) => parseCheckpointKey(key)), checkpoints);
    assert.equal(gets.filter((key) => parseSegmentKey(key)).length, segments.length - covered);

    // The same as a device that had every segment, and one that reads them all without a checkpoint.
    await catchUp(a.ctx);
    const withoutCheckpoints = createMemoryStore("memory://no-checkpoints");
    for (const [key, body] of memory.objects) {
      if (!parseCheckpointKey(key)) withoutCheckpoints.objects.set(key, body);
    }
    using d = await openSyncDevice(tmp.path, "delta", withoutCheckpoints);
    assert.deepEqual(await catchUp(d.ctx), []);
    const everything = foldOf(a);
    assert.equal(everything.size, 5 + 1 + rounds);
    assert.match(everything.get("gone.txt")!, /"heads":\[[^\]]*"kind":"deleted".*"kept":\[\{/);
    assert.deepEqual(foldOf(c), everything);
    assert.deepEqual(foldOf(d), everything);

    const pulled = await c.pullAll();
    assert.deepEqual(pulled.failures, []);
    assert.equal(
      await Deno.readTextFile(join(c.root, `a-${(rounds - 1) % 5}.txt`)),
      `a, round ${rounds - 1}\n`,
    );
    assert.equal(await Deno.readTextFile(join(c.root, "b-0.txt")), "b, round 0\n");
    await assert.rejects(Deno.stat(join(c.root, "gone.txt")), Deno.errors.NotFound);
  } finally {
    await tmp.remove();
  }
});
