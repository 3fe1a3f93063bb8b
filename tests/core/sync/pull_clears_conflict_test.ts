import assert from "node:assert/strict";
import { join } from "node:path";
import { withTwoDevices } from "../../support/sync_device.ts";
import { listConflicts } from "../../../core/conflicts/conflict_queue.ts";
import { StateDb } from "../../../core/state/state_db.ts";

Deno.test("a pull that restores or adopts a conflicted path takes its conflict off the queue", async () => {
  await withTwoDevices("tcfs-pull-clears-", async ({ alpha, bravo }) => {
    for (const name of ["restored.txt", "adopted.txt", "kept.txt"]) {
      await Deno.writeTextFile(join(alpha.root, name), "first");
    }
    await alpha.pushAll();
    await bravo.pullAll();
    for (const name of ["restored.txt", "adopted.txt", "kept.txt"]) {
      await Deno.writeTextFile(join(alpha.root, name), "alpha's edit");
      await Deno.writeTextFile(join(bravo.root, name), "bravo's edit");
    }
    await alpha.pushAll();
    const met = await bravo.pullAll();
    assert.deepEqual(met.conflicts.length, 3);
    const queued = () => listConflicts(bravo.ctx.state, "default").map((c) => c.path);
    assert.deepEqual(queued(), ["adopted.txt", "kept.txt", "restored.txt"]);

    // Given up here: restored from the store. Made the same as the remote: adopted.
    await Deno.remove(join(bravo.root, "restored.txt"));
    await Deno.writeTextFile(join(bravo.root, "adopted.txt"), "alpha's edit");
    const summary = await bravo.pullAll();
    assert.equal(await Deno.readTextFile(join(bravo.root, "restored.txt")), "alpha's edit");
    assert.deepEqual(summary.conflicts.length, 1);
    assert.deepEqual(queued(), ["kept.txt"], "in the process that pulled");

    // Another process sees the queue as it is once the pull's batch is written.
    bravo.ctx.state.flush();
    const other = await StateDb.open(join(bravo.root, "..", "state.db"));
    try {
      assert.deepEqual(listConflicts(other, "default").map((c) => c.path), ["kept.txt"]);
    } finally {
      other.close();
    }
  });
});
