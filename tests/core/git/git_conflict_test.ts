import assert from "node:assert/strict";
import { join } from "node:path";
import { withFaults } from "../../support/faulty_store.ts";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { listConflicts } from "../../../core/conflicts/conflict_queue.ts";
import { filesBelow } from "../../support/git_repo.ts";

const [C1, C2, C3, C4] = ["1", "2", "3", "4"].map((d) => d.repeat(40));

async function write(device: SyncDevice, rel: string, text: string): Promise<void> {
  const path = join(device.root, rel);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** Two devices in interactive mode (which would queue any other conflict) with one store. */
async function withDevices(fn: (a: SyncDevice, b: SyncDevice) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-git-conflict-" });
  try {
    const store = createMemoryStore();
    using a = await openSyncDevice(dir, "alpha", store);
    using b = await openSyncDevice(dir, "bravo", store);
    await fn(a, b);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("concurrent values of a branch: one tip stays, the other is kept as a conflict ref on both", async () => {
  await withDevices(async (a, b) => {
    await write(a, "p/.git/HEAD", "ref: refs/heads/main\n");
    await write(a, "p/.git/refs/heads/main", `${C1}\n`);
    await a.pushAll();
    await b.pullAll();
    await write(a, "p/.git/refs/heads/main", `${C2}\n`);
    await write(b, "p/.git/refs/heads/main", `${C3}\n`);
    await a.pushAll();
    // The push leaves the ref to its pull (the other side's commits come with it): no conflict.
    const pushed = await b.pushAll();
    assert.deepEqual(pushed.conflicts, []);
    const pulled = await b.pullAll();
    assert.deepEqual(pulled.auto_resolved, ["tcfs/default/p/.git/refs/heads/main"]);
    await b.pushAll();
    await a.pullAll();
    for (const d of [a, b]) {
      const git = join(d.root, "p/.git");
      // Without git objects nothing tells the tips apart: alpha's (smaller name) stays.
      assert.equal(await Deno.readTextFile(join(git, "refs/heads/main")), `${C2}\n`);
      assert.equal(
        await Deno.readTextFile(join(git, "refs/tcfs-conflicts/bravo/main@333333333333")),
        `${C3}\n`,
      );
      assert.deepEqual(
        (await filesBelow(git)).filter((f) => f.includes(".conflict-") || f.includes("tcfs-tmp")),
        [],
      );
      assert.deepEqual(listConflicts(d.ctx.state), []);
    }
  });
});

Deno.test("concurrent packed-refs merge ref by ref; a differing ref keeps both tips", async () => {
  await withDevices(async (a, b) => {
    const header = "# pack-refs with: peeled fully-peeled sorted \n";
    await write(a, "p/.git/packed-refs", `${header}${C1} refs/heads/main\n`);
    await a.pushAll();
    await b.pullAll();
    await write(a, "p/.git/packed-refs", `${header}${C2} refs/heads/main\n${C4} refs/tags/v1\n`);
    await write(
      b,
      "p/.git/packed-refs",
      `${header}${C1} refs/heads/main\n${C3} refs/heads/topic\n`,
    );
    await a.pushAll();
    await b.pushAll();
    await b.pullAll();
    await b.pushAll();
    await a.pullAll();
    for (const d of [a, b]) {
      const git = join(d.root, "p/.git");
      assert.equal(
        await Deno.readTextFile(join(git, "packed-refs")),
        `# pack-refs with: sorted \n${C2} refs/heads/main\n${C3} refs/heads/topic\n${C4} refs/tags/v1\n`,
      );
      // bravo's main was alpha's old value: with no git to say so, it is kept all the same.
      assert.equal(
        await Deno.readTextFile(join(git, "refs/tcfs-conflicts/bravo/main@111111111111")),
        `${C1}\n`,
      );
      assert.deepEqual(listConflicts(d.ctx.state), []);
    }
  });
});

Deno.test("objects never conflict; other shared git files are queued, never copied", async () => {
  await withDevices(async (a, b) => {
    await write(a, "p/.git/objects/ab/cdef", "same object");
    await write(b, "p/.git/objects/ab/cdef", "same object");
    await write(a, "p/.git/config", "[core]\n\tbare = false\n");
    await write(b, "p/.git/config", "[core]\n\tbare = false\n\tfilemode = true\n");
    await a.pushAll();
    const pushed = await b.pushAll();
    assert.deepEqual(pushed.conflicts, ["tcfs/default/p/.git/config"]);
    await a.pullAll();
    await b.pullAll();
    assert.deepEqual(await filesBelow(join(b.root, "p/.git")), ["config", "objects/ab/cdef"]);
    assert.deepEqual(listConflicts(b.ctx.state).map((c) => c.path), ["p/.git/config"]);
  });
});

Deno.test("a branch moved here while git gc packed it there keeps both tips", async () => {
  await withDevices(async (a, b) => {
    await write(a, "p/.git/HEAD", "ref: refs/heads/main\n");
    await write(a, "p/.git/refs/heads/main", `${C1}\n`);
    await a.pushAll();
    await b.pullAll();
    // alpha commits C2 and runs git gc: the branch moves into packed-refs, its loose file goes.
    await write(
      a,
      "p/.git/packed-refs",
      `# pack-refs with: peeled fully-peeled sorted \n${C2} refs/heads/main\n`,
    );
    await Deno.remove(join(a.root, "p/.git/refs/heads/main"));
    // bravo commits C3 meanwhile.
    await write(b, "p/.git/refs/heads/main", `${C3}\n`);
    await a.pushAll();
    const pushed = await b.pushAll();
    assert.deepEqual(pushed.resurrected, [], "bravo's ref went up over the deletion");
    const pulled = await b.pullAll();
    assert.deepEqual(pulled.kept_modified, []);
    assert.deepEqual(pulled.auto_resolved, ["tcfs/default/p/.git/refs/heads/main"]);
    await b.pushAll();
    await a.pullAll();
    for (const d of [a, b]) {
      const git = join(d.root, "p/.git");
      assert.equal(await Deno.readTextFile(join(git, "refs/heads/main")), `${C2}\n`);
      assert.equal(
        await Deno.readTextFile(join(git, "refs/tcfs-conflicts/bravo/main@333333333333")),
        `${C3}\n`,
      );
      assert.deepEqual(listConflicts(d.ctx.state), []);
    }
  });
});

Deno.test("a loose ref here that hides a ref git gc packed there keeps both tips", async () => {
  await withDevices(async (a, b) => {
    const header = "# pack-refs with: peeled fully-peeled sorted \n";
    await write(a, "p/.git/HEAD", "ref: refs/heads/main\n");
    await write(a, "p/.git/packed-refs", `${header}${C1} refs/heads/main\n`);
    await a.pushAll();
    await b.pullAll();
    // alpha commits C2 (a loose file); bravo commits C3 and runs git gc (only packed-refs moves).
    await write(a, "p/.git/refs/heads/main", `${C2}\n`);
    await write(b, "p/.git/packed-refs", `${header}${C3} refs/heads/main\n`);
    await a.pushAll();
    await b.pushAll();
    await a.pullAll();
    await a.pushAll();
    await b.pullAll();
    for (const d of [a, b]) {
      const git = join(d.root, "p/.git");
      assert.equal(await Deno.readTextFile(join(git, "refs/heads/main")), `${C2}\n`);
      assert.equal(
        await Deno.readTextFile(join(git, "refs/tcfs-conflicts/bravo/main@333333333333")),
        `${C3}\n`,
      );
    }
  });
});

Deno.test("a third device whose branch is as it synced it keeps only the two new tips", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-git-conflict-" });
  try {
    const store = withFaults(createMemoryStore());
    using a = await openSyncDevice(dir, "alpha", store);
    using b = await openSyncDevice(dir, "bravo", store);
    using c = await openSyncDevice(dir, "charlie", store);
    await write(a, "p/.git/refs/heads/main", `${C1}\n`);
    await a.pushAll();
    for (const d of [b, c]) await d.pullAll();
    await write(a, "p/.git/refs/heads/main", `${C2}\n`);
    await write(b, "p/.git/refs/heads/main", `${C3}\n`);
    // Each push's segment waits until both have read the heads: neither sees the other's
    // version, and the store holds two concurrent heads.
    const bothRead = Promise.withResolvers<void>();
    const held = store.inject({
      op: "putConditional",
      keyPrefix: "ns/default/j/",
      action: "delay",
      until: bothRead.promise,
      times: 2,
    });
    const pushes = Promise.all([a.pushAll(), b.pushAll()]);
    while (held() < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    bothRead.resolve();
    await pushes;
    const pulled = await c.pullAll();
    assert.deepEqual(pulled.auto_resolved, ["tcfs/default/p/.git/refs/heads/main"]);
    const git = join(c.root, "p/.git");
    assert.equal(await Deno.readTextFile(join(git, "refs/heads/main")), `${C2}\n`);
    assert.deepEqual(await filesBelow(join(git, "refs/tcfs-conflicts")), [
      "bravo/main@333333333333",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
