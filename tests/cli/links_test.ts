/**
 * Links are data: recreated exactly as they were, absolute or relative, and tcfs never writes
 * through one. Real CLI on a file:// store; crafted versions where a device would not write
 * them.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { hostileFleet, plant, plantLink, treeSnapshot } from "../support/hostile_fleet.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("absolute links round-trip exactly: a venv's bin/python and a distro's sitecustomize.py", async () => {
  await using fleet = await hostileFleet();
  const tree = join(fleet.a.home, "py");
  await Deno.mkdir(join(tree, "venv", "bin"), { recursive: true });
  await Deno.mkdir(join(tree, "lib"));
  await Deno.writeTextFile(join(tree, "venv", "pyvenv.cfg"), "home = /usr/bin\n");
  const links: Record<string, string> = {
    "venv/bin/python": "/usr/bin/python3",
    "venv/bin/python3": "python",
    "lib/sitecustomize.py": "/etc/python3.11/sitecustomize.py",
    "lib/up": "../../../../../..",
  };
  for (const [rel, target] of Object.entries(links)) await Deno.symlink(target, join(tree, rel));
  await fleet.a.tcfsJson<PushSummary>(["push", tree, "tcfs/default/py"]);
  const dest = join(fleet.b.home, "py");
  const summary = await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/py", dest]);
  assert.deepEqual(summary.failures, []);
  for (const [rel, target] of Object.entries(links)) {
    assert.equal(await Deno.readLink(join(dest, rel)), target, rel);
  }
  assert.equal(await Deno.readTextFile(join(dest, "venv", "pyvenv.cfg")), "home = /usr/bin\n");
});

Deno.test("a/b -> .. and l1 -> a/b/.. are recreated as links; files below them are refused and nothing lands outside", async () => {
  await using fleet = await hostileFleet();
  await plantLink(fleet.store, "a/b", "..");
  await plantLink(fleet.store, "l1", "a/b/..");
  await plant(fleet.store, { path: "a/keep.txt" });
  const dest = join(fleet.b.home, "deep", "got");
  const around = dirname(dest);
  await Deno.mkdir(around, { recursive: true });
  const first = await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/", dest]);
  assert.deepEqual(first.failures, []);
  assert.equal(await Deno.readLink(join(dest, "a", "b")), "..");
  assert.equal(await Deno.readLink(join(dest, "l1")), "a/b/..");
  // Files whose folder on the way is one of those links: each fails alone.
  await plant(fleet.store, { path: "l1/pwned.txt" });
  await plant(fleet.store, { path: "a/b/pwned.txt" });
  const result = await fleet.b.tcfs(["pull", "tcfs/default/", dest, "--json"]);
  assert.equal(result.code, 1, result.stderr);
  const second = JSON.parse(result.stdout) as PullSummary;
  assert.equal(second.failures.length, 2, JSON.stringify(second.failures));
  for (const failure of second.failures) assert.match(failure.error, /symlink/);
  // l1 resolves to the folder holding the target, a/b to the target itself.
  assert.deepEqual(await treeSnapshot(around, [dest]), new Map());
  await assert.rejects(Deno.lstat(join(dest, "pwned.txt")), Deno.errors.NotFound);
});

Deno.test("a prefix pull recreates docs/esc -> ../secret inside the target and writes nothing through it", async () => {
  await using fleet = await hostileFleet();
  await plantLink(fleet.store, "docs/esc", "../secret");
  await plant(fleet.store, { path: "docs/readme.txt" });
  const dest = join(fleet.b.home, "docs");
  const secret = join(fleet.b.home, "secret");
  await Deno.mkdir(secret);
  const first = await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", dest]);
  assert.deepEqual(first.failures, []);
  assert.equal(await Deno.readLink(join(dest, "esc")), "../secret");
  assert.ok((await Deno.stat(join(dest, "readme.txt"))).isFile);
  // A file below the link, next time: refused, for that path only.
  await plant(fleet.store, { path: "docs/esc/x.txt" });
  const result = await fleet.b.tcfs(["pull", "tcfs/default/docs", dest, "--json"]);
  assert.equal(result.code, 1, result.stderr);
  const second = JSON.parse(result.stdout) as PullSummary;
  assert.deepEqual(second.failures.map((f) => f.path), ["docs/esc/x.txt"]);
  assert.deepEqual([...Deno.readDirSync(secret)], []);
  assert.equal(await Deno.readLink(join(dest, "esc")), "../secret");
});

Deno.test('[sync] links = "skip" neither pushes nor pulls links, and deletes none', async () => {
  await using fleet = await hostileFleet();
  const skip = { env: { TCFS_SYNC_LINKS: "skip" } };
  const tree = join(fleet.a.home, "t");
  await Deno.mkdir(tree);
  await Deno.writeTextFile(join(tree, "f.txt"), "f");
  await Deno.symlink("/usr/bin/python3", join(tree, "python"));
  const pushed = await fleet.a.tcfs(["push", tree, "tcfs/default/t", "--json"], skip);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.equal((JSON.parse(pushed.stdout) as PushSummary).files, 1);
  // Pushed with links kept, the link is in the store; a skipping device leaves it out.
  await fleet.a.tcfsJson<PushSummary>(["push", tree, "tcfs/default/t"]);
  const again = await fleet.a.tcfs(["push", tree, "tcfs/default/t", "--json"], skip);
  assert.equal((JSON.parse(again.stdout) as PushSummary).deleted, 0, again.stdout);
  const dest = join(fleet.b.home, "t");
  const pulled = await fleet.b.tcfs(["pull", "tcfs/default/t", dest, "--json"], skip);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(await Deno.readTextFile(join(dest, "f.txt")), "f");
  await assert.rejects(Deno.lstat(join(dest, "python")), Deno.errors.NotFound);
  // The link is still in the store for devices that keep links.
  await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/t", dest]);
  assert.equal(await Deno.readLink(join(dest, "python")), "/usr/bin/python3");
});
