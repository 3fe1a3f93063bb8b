import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFileStoreDevices } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** Names in `dir` and below, as paths relative to it. */
async function namesBelow(dir: string, at = ""): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(join(dir, at))) {
    const rel = at ? `${at}/${entry.name}` : entry.name;
    names.push(rel);
    if (entry.isDirectory) names.push(...await namesBelow(dir, rel));
  }
  return names.sort();
}

/** Runs a system command, failing the test with `what` if it fails. */
async function run(command: string, args: string[], what: string): Promise<void> {
  const { success, stderr } = await new Deno.Command(command, { args }).output();
  assert.ok(success, `${what}: ${new TextDecoder().decode(stderr)}`);
}

/** A tmpfs of `size` on `dir` (mounting needs root, as CI runs), unmounted when disposed. */
async function mountTmpfs(dir: string, size: string) {
  await run("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], `mount a ${size} tmpfs`);
  return {
    /** More room, keeping what is there. */
    grow: (to: string) =>
      run("mount", ["-o", `remount,size=${to}`, dir], `grow the tmpfs to ${to}`),
    async [Symbol.asyncDispose]() {
      await new Deno.Command("umount", { args: [dir] }).output();
    },
  };
}

Deno.test({
  name:
    "a pull onto a full disk stops with disk_full and what to do, leaves no temp file, and the next pull finishes once there is room",
  ignore: Deno.uid() !== 0,
  async fn() {
    const tmp = await makeScopedTempDir("tcfs-disk-full-");
    const [a, b] = await makeFileStoreDevices(tmp.path, "devA", "devB");
    const folderA = join(a.home, "s");
    const disk = join(tmp.path, "disk");
    const folderB = join(disk, "s");
    await Deno.mkdir(disk);
    try {
      await using tmpfs = await mountTmpfs(disk, "3m");
      await Deno.mkdir(folderA);
      for (let i = 0; i < 6; i++) await writeRandomFile(join(folderA, `f${i}.bin`), 1 << 20, i);
      await a.tcfsJson<PushSummary>(["push", folderA, "tcfs/default/s"]);

      const full = await b.tcfs(["pull", "--json", "tcfs/default/s", folderB]);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      const { error } = JSON.parse(full.stdout);
      assert.equal(error.kind, "disk_full");
      assert.match(error.message, /No space left on device/);
      assert.match(error.hint, /free some space/);
      assert.deepEqual((await namesBelow(disk)).filter((name) => name.includes(".tcfs-tmp-")), []);
      const text = await b.tcfs(["pull", "tcfs/default/s", folderB]);
      assert.match(text.stderr, /hint: free some space/);

      // More room: the same pull goes on and brings every file.
      await tmpfs.grow("16m");
      await b.tcfsJson<PullSummary>(["pull", "tcfs/default/s", folderB]);
      for (let i = 0; i < 6; i++) {
        assert.deepEqual(
          await Deno.readFile(join(folderB, `f${i}.bin`)),
          await Deno.readFile(join(folderA, `f${i}.bin`)),
        );
      }
    } finally {
      await tmp.remove();
    }
  },
});

Deno.test({
  name:
    "a pull whose state database meets a full disk stops with disk_full naming the state, and goes on once there is room",
  ignore: Deno.uid() !== 0,
  async fn() {
    const tmp = await makeScopedTempDir("tcfs-state-full-");
    const [a, b] = await makeFileStoreDevices(tmp.path, "devA", "devB");
    const folderA = join(a.home, "s");
    const folderB = join(b.home, "s");
    // Many small files: the state database grows by a row each, the files barely.
    await Deno.mkdir(folderA);
    for (let i = 0; i < 3000; i++) {
      await Deno.writeTextFile(join(folderA, `a-file-with-a-longer-name-${i}.txt`), `${i}`);
    }
    await a.tcfsJson<PushSummary>(["push", folderA, "tcfs/default/s"]);
    const state = join(b.home, ".local", "state");
    await Deno.mkdir(state, { recursive: true });
    try {
      await using tmpfs = await mountTmpfs(state, "400k");
      const full = await b.tcfs(["pull", "--json", "tcfs/default/s", folderB]);
      assert.equal(full.code, 1, full.stdout + full.stderr);
      const { error } = JSON.parse(full.stdout);
      assert.equal(error.kind, "disk_full");
      assert.match(error.message, /state database: database or disk is full/);
      assert.match(error.hint, /local\/state\/tcfs/);

      await tmpfs.grow("64m");
      await b.tcfsJson<PullSummary>(["pull", "tcfs/default/s", folderB]);
      for (const i of [0, 1499, 2999]) {
        const name = `a-file-with-a-longer-name-${i}.txt`;
        assert.equal(await Deno.readTextFile(join(folderB, name)), `${i}`);
      }
      const again = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/s", folderB]);
      assert.equal(again.files, 0, "every file recorded: a second pull has nothing to do");
    } finally {
      await tmp.remove();
    }
  },
});
