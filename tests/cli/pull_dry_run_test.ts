import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome, makeFileStoreDevices } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { snapshotTree } from "../support/tree_compare.ts";
import { stateRows } from "../support/state_rows.ts";
import { makeDaemonDevice } from "../daemon/daemon_device.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("pull --dry-run lists what each path would get and writes no file and no state", async () => {
  const tmp = await makeScopedTempDir("tcfs-pull-dry-");
  const [a, b] = await makeFileStoreDevices(tmp.path, "devA", "devB");
  const folderA = join(a.home, "s");
  const folderB = join(b.home, "s");
  const write = (folder: string, rel: string, text: string) =>
    Deno.mkdir(join(folder, rel, ".."), { recursive: true })
      .then(() => Deno.writeTextFile(join(folder, rel), text));
  try {
    for (const rel of ["same.txt", "edited.txt", "gone.txt", "both.txt", "kept.txt", "d/x.txt"]) {
      await write(folderA, rel, `${rel} v1\n`);
    }
    await a.tcfsJson<PushSummary>(["push", folderA, "tcfs/default/s"]);
    await b.tcfsJson<PullSummary>(["pull", "tcfs/default/s", folderB]);
    await write(folderA, "edited.txt", "edited by A\n");
    await write(folderA, "both.txt", "both: A\n");
    await write(folderA, "new.txt", "new\n");
    await Deno.remove(join(folderA, "gone.txt"));
    await Deno.remove(join(folderA, "kept.txt"));
    await Deno.remove(join(folderA, "d"), { recursive: true });
    await write(folderA, "d", "d is a file now\n");
    await a.tcfsJson<PushSummary>(["push", folderA, "tcfs/default/s"]);
    await write(folderB, "both.txt", "both: B\n");
    await write(folderB, "kept.txt", "kept: B\n");

    const tree = await snapshotTree(folderB);
    // Sync state; the cache of immutable versions read from the store may grow.
    const rows = () =>
      ["tracked", "conflicts", "chunk_prints", "chunk_locations"].map((table) =>
        stateRows(b.home, "SELECT name FROM sqlite_master WHERE name = ?", table).length > 0
          ? stateRows(b.home, `SELECT * FROM ${table}`)
          : []
      );
    const before = rows();
    const dry = await b.tcfsJson<PullSummary>(["pull", "--dry-run", "tcfs/default/s", folderB]);
    const s = (rel: string) => `tcfs/default/s/${rel}`;
    assert.deepEqual(dry.planned, [
      { path: s("both.txt"), action: "conflict" },
      { path: s("d"), action: "restore" },
      { path: s("d/x.txt"), action: "delete" },
      { path: s("edited.txt"), action: "restore" },
      { path: s("gone.txt"), action: "delete" },
      { path: s("kept.txt"), action: "kept_modified" },
      { path: s("new.txt"), action: "restore" },
      { path: s("same.txt"), action: "unchanged" },
    ]);
    assert.deepEqual([dry.files, dry.deleted, dry.conflicts, dry.failures], [0, 0, [], []]);
    assert.deepEqual(await snapshotTree(folderB), tree, "no file was written");
    assert.deepEqual(rows(), before, "no state row was written");

    const human = await b.tcfs(["pull", "--dry-run", "tcfs/default/s", folderB]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^kept_modified {2}tcfs\/default\/s\/kept\.txt$/m);
    assert.match(human.stdout, /^restore {8}tcfs\/default\/s\/d$/m);
    assert.match(human.stdout, /dry run: nothing was written/);

    // The real pull does what the dry run said.
    const real = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/s", folderB], {
      allowCodes: [3],
    });
    assert.deepEqual(
      [real.files, real.deleted, real.unchanged, real.conflicts, real.kept_modified],
      [3, 2, 1, [s("both.txt")], [s("kept.txt")]],
    );
    assert.equal(real.planned, undefined);
    assert.equal(await Deno.readTextFile(join(folderB, "d")), "d is a file now\n");
  } finally {
    await tmp.remove();
  }
});

Deno.test("a daemon plans a pull without writing when the request says dry_run", async () => {
  const tmp = await makeScopedTempDir("tcfs-pull-dry-daemon-");
  const store = { TCFS_S3_ENDPOINT: `file://${tmp.path}/store` };
  const a = await makeDeviceHome(tmp.path, "devA", {
    ...store,
    TCFS_SOCKET: join(tmp.path, "devA.sock"),
  });
  const b = await makeDaemonDevice(tmp.path, "devB", store);
  try {
    await Deno.mkdir(join(a.home, "docs"));
    await Deno.writeTextFile(join(a.home, "docs", "a.txt"), "a\n");
    await a.tcfsJson<PushSummary>(["push", join(a.home, "docs"), "tcfs/default/docs"]);
    await b.start();
    const elsewhere = join(tmp.path, "elsewhere");
    using client = createControlClient(b.socket);
    const summary = await client.pull({
      remote: "tcfs/default/docs",
      local: elsewhere,
      dry_run: true,
    });
    assert.deepEqual(summary.planned, [{ path: "tcfs/default/docs/a.txt", action: "restore" }]);
    await assert.rejects(Deno.lstat(elsewhere), Deno.errors.NotFound);
    // And through the CLI, which routes to the running daemon.
    const cli = await b.tcfs(["pull", "--dry-run", "--json", "tcfs/default/docs", elsewhere]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual((JSON.parse(cli.stdout) as PullSummary).planned, summary.planned);
    await assert.rejects(Deno.lstat(elsewhere), Deno.errors.NotFound);
  } finally {
    await b.stop();
    await tmp.remove();
  }
});
