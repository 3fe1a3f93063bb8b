import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFileStoreDevices } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { RemoteEntry } from "../../core/sync/remote_listing.ts";

const REPO = new URL("../../", import.meta.url).pathname;

async function tempsIn(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name)
    .filter((name) => name.includes(".tcfs-tmp-")).sort();
}

Deno.test("the next pull or push of a folder removes what a killed pull left, never a live writer's temp", async () => {
  const tmp = await makeScopedTempDir("tcfs-killed-pull-");
  const [a, b] = await makeFileStoreDevices(tmp.path, "devA", "devB");
  const folderA = join(a.home, "s");
  const folderB = join(b.home, "s");
  try {
    await Deno.mkdir(folderA);
    await writeRandomFile(join(folderA, "big.bin"), 64 << 20, 11);
    await a.tcfsJson<PushSummary>(["push", folderA, "tcfs/default/s"]);

    // Kill B's pull (the deno process itself: scripts/tcfs execs it) once its temp file is there.
    await Deno.mkdir(folderB);
    const child = new Deno.Command(join(REPO, "scripts/tcfs"), {
      args: ["pull", "tcfs/default/s", folderB],
      env: b.env,
      clearEnv: true,
      cwd: b.home,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Its own temp, not the probe of how the folder's filesystem treats names
    // (`.tcfs-name-probe-….tcfs-tmp-…`), which comes and goes before any restore.
    const bigTemp = (names: string[]) =>
      names.some((name) => name.startsWith(".big.bin.tcfs-tmp-"));
    for (let i = 0; !bigTemp(await tempsIn(folderB)); i++) {
      assert.ok(i < 3000, "the pull never wrote a temp file");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill("SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL");
    const left = await tempsIn(folderB);
    assert.equal(left.length, 1);
    // A temp of a live process (this test) must survive every sweep.
    const live = `.other.bin.tcfs-tmp-${Deno.pid}-0123abcd`;
    await Deno.writeTextFile(join(folderB, live), "being written");

    const pulled = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/s", folderB]);
    assert.equal(pulled.files, 1);
    assert.deepEqual(await tempsIn(folderB), [live]);
    assert.match(left[0], new RegExp(`^\\.big\\.bin\\.tcfs-tmp-${child.pid}-[0-9a-f]{8}$`));
    const [got, want] = await Promise.all([
      Deno.readFile(join(folderB, "big.bin")),
      Deno.readFile(join(folderA, "big.bin")),
    ]);
    assert.ok(got.length === want.length && got.every((byte, i) => byte === want[i]));

    // A push sweeps too, and never sends a temp, live or not.
    const stale = `.big.bin.tcfs-tmp-${child.pid}-89abcdef`;
    await Deno.writeTextFile(join(folderB, stale), "left by the kill");
    await Deno.writeTextFile(join(folderB, "new.txt"), "new\n");
    const pushed = await b.tcfsJson<PushSummary>(["push", folderB, "tcfs/default/s"]);
    assert.equal(pushed.files, 1);
    assert.deepEqual(await tempsIn(folderB), [live]);
    const listing = await a.tcfsJson<RemoteEntry[]>(["ls", "tcfs/default/s"]);
    assert.deepEqual(listing.map((e) => e.path).sort(), ["s/big.bin", "s/new.txt"]);
  } finally {
    await tmp.remove();
  }
});
