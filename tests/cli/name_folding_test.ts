/**
 * Pulls onto a filesystem that takes two names for one (macOS's and Windows' by default), from
 * a fleet whose Linux machines tell them apart: no path is written over another's entry, so the
 * next push sends no deletion, and the fleet keeps every file (core/sync/names_on_disk.ts).
 */

import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { hostileFleet } from "../support/hostile_fleet.ts";
import { mountCasefold } from "../support/casefold_mount.ts";
import { nameKeyOf } from "../../core/sync/name_folding.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** The files below `dir`, by path relative to it, as the filesystem names them. */
async function treeFiles(dir: string, below = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, below))) {
    const rel = below ? `${below}/${entry.name}` : entry.name;
    if (entry.isDirectory) found.push(...await treeFiles(dir, rel));
    else found.push(rel);
  }
  return found;
}

Deno.test("the probe tells a filesystem that folds case from one that does not, and leaves nothing", async () => {
  await using fleet = await hostileFleet();
  await using mount = await mountCasefold(fleet.tmp);
  assert.equal(nameKeyOf(fleet.tmp), undefined);
  const key = nameKeyOf(mount.mountpoint);
  assert.ok(key);
  assert.equal(key("Docs/README.md"), key("docs/readme.MD"));
  assert.notEqual(key("a.txt"), key("b.txt"));
  assert.deepEqual([...Deno.readDirSync(mount.mountpoint)], []);
});

Deno.test("a pull onto a filesystem that folds case leaves out the second of two names, and the fleet keeps both", async () => {
  await using fleet = await hostileFleet();
  await using mount = await mountCasefold(fleet.tmp);
  const tree = join(fleet.a.home, "tree");
  await Deno.mkdir(join(tree, "d"), { recursive: true });
  await Deno.mkdir(join(tree, "Docs"));
  await Deno.mkdir(join(tree, "docs"));
  const files: Record<string, string> = {
    "d/README.md": "upper\n",
    "d/Readme.md": "mixed\n",
    "d/other.txt": "other\n",
    "Docs/a.txt": "a\n",
    "docs/b.txt": "b\n",
  };
  for (const [rel, text] of Object.entries(files)) await Deno.writeTextFile(join(tree, rel), text);
  await fleet.a.tcfsJson<PushSummary>(["push", tree, "tcfs/default/tree"]);

  const dest = join(mount.mountpoint, "tree");
  const pulled = await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/tree", dest], {
    allowCodes: [1],
  });
  // Of each pair, the first in name order has the place; the other is reported.
  assert.equal(pulled.files, 3);
  assert.deepEqual(pulled.failures.map((f) => f.path).sort(), [
    "tree/d/Readme.md",
    "tree/docs/b.txt",
  ]);
  for (const failure of pulled.failures) assert.match(failure.error, /takes the two names for one/);
  assert.deepEqual((await treeFiles(dest)).sort(), ["Docs/a.txt", "d/README.md", "d/other.txt"]);
  for (const rel of ["Docs/a.txt", "d/README.md", "d/other.txt"]) {
    assert.equal(await Deno.readTextFile(join(dest, rel)), files[rel], rel);
  }

  // B's push finds nothing to send: no path it left out passes for deleted.
  const pushed = await fleet.b.tcfsJson<PushSummary>(["push", dest, "tcfs/default/tree"]);
  assert.deepEqual([pushed.files, pushed.deleted], [0, 0]);
  const again = await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/tree", dest], {
    allowCodes: [1],
  });
  assert.deepEqual([again.files, again.deleted, again.failures.length], [0, 0, 2]);

  const back = join(fleet.a.home, "back");
  await fleet.a.tcfsJson<PullSummary>(["pull", "tcfs/default/tree", back]);
  for (const [rel, text] of Object.entries(files)) {
    assert.equal(await Deno.readTextFile(join(back, rel)), text, rel);
  }
});

/**
 * `first` is synced to a machine that takes `second` for the same name; then `second` arrives.
 * Neither its bytes nor a conflict copy replace `first`, and the fleet keeps both.
 */
async function twinArrivesLater(first: string, second: string): Promise<void> {
  await using fleet = await hostileFleet();
  await using mount = await mountCasefold(fleet.tmp);
  const tree = join(fleet.a.home, "tree");
  await Deno.mkdir(tree);
  await Deno.writeTextFile(join(tree, first), "first\n");
  await fleet.a.tcfsJson<PushSummary>(["push", tree, "tcfs/default/tree"]);
  const dest = join(mount.mountpoint, "tree");
  // Conflicts settled at once, as a daemon's fleet may have them: nothing here is one.
  const auto = { TCFS_CONFLICT_MODE: "auto" };
  const b = (args: string[]) => fleet.b.tcfs([...args, "--json"], { env: auto });
  assert.equal((await b(["pull", "tcfs/default/tree", dest])).code, 0);

  await Deno.writeTextFile(join(tree, second), "second\n");
  await fleet.a.tcfsJson<PushSummary>(["push", tree, "tcfs/default/tree"]);
  const pulled = await b(["pull", "tcfs/default/tree", dest]);
  assert.equal(pulled.code, 1, pulled.stderr);
  const summary = JSON.parse(pulled.stdout) as PullSummary;
  assert.deepEqual(summary.failures.map((f) => f.path), [`tree/${second}`]);
  assert.deepEqual(summary.auto_resolved, []);
  assert.deepEqual([...Deno.readDirSync(dest)].map((e) => e.name), [first]);
  assert.equal(await Deno.readTextFile(join(dest, first)), "first\n");

  const pushed = JSON.parse((await b(["push", dest, "tcfs/default/tree"])).stdout) as PushSummary;
  assert.deepEqual([pushed.files, pushed.deleted], [0, 0]);
  const back = join(fleet.a.home, "back");
  await fleet.a.tcfsJson<PullSummary>(["pull", "tcfs/default/tree", back]);
  assert.equal(await Deno.readTextFile(join(back, first)), "first\n");
  assert.equal(await Deno.readTextFile(join(back, second)), "second\n");
}

Deno.test("a name that arrives after its twin was synced neither replaces it nor makes a conflict copy of it", async () => {
  await twinArrivesLater("Readme.md", "README.md");
});

Deno.test("so with twins that lower case keeps apart and the filesystem does not (Greek final sigma)", async () => {
  await twinArrivesLater("ΟΔΟΣ.txt", "οδος.txt");
});

Deno.test("a drive that folds case, mounted inside a sync root that does not, is probed on its own", async () => {
  await using fleet = await hostileFleet();
  const dest = join(fleet.tmp, "root");
  await Deno.mkdir(dest);
  await using mount = await mountCasefold(dest);
  const stick = basename(mount.mountpoint);
  const tree = join(fleet.a.home, "tree");
  await Deno.mkdir(join(tree, stick), { recursive: true });
  await Deno.writeTextFile(join(tree, stick, "Readme.md"), "first\n");
  // Twins new to the drive: the first in name order has the place, as on a drive of its own.
  await Deno.writeTextFile(join(tree, stick, "b.txt"), "lower\n");
  await Deno.writeTextFile(join(tree, stick, "B.txt"), "upper\n");
  await fleet.a.tcfsJson<PushSummary>(["push", tree, "tcfs/default/tree"]);
  const b = (args: string[]) =>
    fleet.b.tcfs([...args, "--json"], { env: { TCFS_CONFLICT_MODE: "auto" } });
  const first = await b(["pull", "tcfs/default/tree", dest]);
  assert.equal(first.code, 1, first.stderr);
  const firstSummary = JSON.parse(first.stdout) as PullSummary;
  assert.deepEqual(firstSummary.failures.map((f) => f.path), [`tree/${stick}/b.txt`]);
  assert.equal(await Deno.readTextFile(join(mount.mountpoint, "B.txt")), "upper\n");

  await Deno.writeTextFile(join(tree, stick, "README.md"), "second\n");
  await fleet.a.tcfsJson<PushSummary>(["push", tree, "tcfs/default/tree"]);
  const pulled = await b(["pull", "tcfs/default/tree", dest]);
  assert.equal(pulled.code, 1, pulled.stderr);
  const summary = JSON.parse(pulled.stdout) as PullSummary;
  assert.deepEqual(summary.failures.map((f) => f.path).sort(), [
    `tree/${stick}/README.md`,
    `tree/${stick}/b.txt`,
  ]);
  assert.deepEqual([...Deno.readDirSync(mount.mountpoint)].map((e) => e.name).sort(), [
    "B.txt",
    "Readme.md",
  ]);
  assert.equal(await Deno.readTextFile(join(mount.mountpoint, "Readme.md")), "first\n");
});
