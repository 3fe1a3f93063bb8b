import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { isTempFile, sweepTempFiles, tempPathBeside } from "../../../core/sync/temp_sweeper.ts";
import { createExcludeMatcher } from "../../../core/sync/exclude_matcher.ts";

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("temps of dead processes are removed at any depth; live ones and everything else stay", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(root, "a", "b"), { recursive: true });
    const dead = await deadPid();
    const temps = [
      join(root, `.x.txt.tcfs-tmp-${dead}-0123abcd`),
      join(root, "a", "b", `.big.bin.tcfs-tmp-${dead}-deadbeef`),
    ];
    const kept = [
      join(root, "x.txt"),
      tempPathBeside(join(root, "a", "live.bin")), // this process: alive
      join(root, "a", ".old.bin.tcfs-tmp-0123abcd"), // no pid, and fresh
      join(root, "a", `notes.tcfs-tmp-${dead}-0123abcd`), // no leading dot: not one of ours
      join(root, "a", ".y.tcfs-tmp-XYZ"), // not 8 hex digits
    ];
    for (const path of [...temps, ...kept]) await Deno.writeTextFile(path, "x");
    assert.deepEqual((await sweepTempFiles(root)).sort(), temps.sort());
    for (const path of temps) await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
    for (const path of kept) await Deno.stat(path);
    assert.deepEqual(await sweepTempFiles(join(root, "missing")), []);
    assert.deepEqual(await sweepTempFiles(join(root, "x.txt")), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a temp untouched for longer than the stale age goes even when its pid is alive", async () => {
  const root = await Deno.makeTempDir();
  try {
    const live = tempPathBeside(join(root, "live.bin"));
    const old = join(root, ".old.bin.tcfs-tmp-0123abcd");
    for (const path of [live, old]) await Deno.writeTextFile(path, "x");
    // The age is the inode's change time: an mtime set far back (as a restore does) is no age.
    const longAgo = new Date(2001, 0, 1);
    await Deno.utime(live, longAgo, longAgo);
    assert.deepEqual(await sweepTempFiles(root), []);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual((await sweepTempFiles(root, { staleAfterMs: 10 })).sort(), [live, old].sort());
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("temp names carry the writer's pid and are never synced", () => {
  const temp = tempPathBeside("/home/me/Sync/big.bin");
  assert.match(basename(temp), new RegExp(`^\\.big\\.bin\\.tcfs-tmp-${Deno.pid}-[0-9a-f]{8}$`));
  const excluded = createExcludeMatcher([]);
  assert.ok(excluded(`docs/${basename(temp)}`));
  assert.ok(excluded(".big.bin.tcfs-tmp-0123abcd"));
});

Deno.test("a temp beside a name near the 255-byte limit fits in it and is still a temp", () => {
  for (const name of ["n".repeat(255), "ü".repeat(127)]) {
    const temp = basename(tempPathBeside(`/home/me/Sync/${name}`));
    assert.ok(new TextEncoder().encode(temp).length <= 255, temp);
    assert.ok(createExcludeMatcher([])(temp));
    assert.ok(isTempFile({ name: temp, isFile: true, isDirectory: false, isSymlink: false }));
  }
});
