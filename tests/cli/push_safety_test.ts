import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { stateRows } from "../support/state_rows.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** Two devices on a file:// store, each with a folder s1 mapped to tcfs/default/s1. */
async function fleet() {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-push-safety-" });
  const env = { TCFS_S3_ENDPOINT: `file://${tmp}/store` };
  const a = await makeDeviceHome(tmp, "devA", env);
  const b = await makeDeviceHome(tmp, "devB", env);
  const remote = (rel: string) => `tcfs/default/${rel}`;
  const s1 = (d: { home: string }) => join(d.home, "s1");
  await Deno.mkdir(s1(a));
  await Deno.mkdir(s1(b));
  return { tmp, a, b, remote, s1 };
}

Deno.test("a pull into a second folder does not make the next push of the first overwrite a newer remote version", async () => {
  const { tmp, a, b, remote, s1 } = await fleet();
  await Deno.writeTextFile(join(s1(a), "a.txt"), "from A\n");
  await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  await b.tcfsJson<PullSummary>(["pull", remote("s1"), s1(b)]);
  await Deno.writeTextFile(join(s1(b), "a.txt"), "B's newer edit\n");
  await b.tcfsJson<PushSummary>(["push", s1(b), remote("s1")]);

  const peek = join(tmp, "peek");
  await Deno.mkdir(peek);
  await a.tcfsJson<PullSummary>(["pull", remote("s1/a.txt"), join(peek, "a.txt")]);
  assert.equal(await Deno.readTextFile(join(peek, "a.txt")), "B's newer edit\n");

  // s1/a.txt on A still holds A's old content: pushing it must not replace B's version.
  const unchanged = await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  assert.equal(unchanged.files, 0);
  await Deno.writeTextFile(join(s1(a), "a.txt"), "A's edit of the old content\n");
  const pushed = await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")], {
    allowCodes: [3],
  });
  assert.equal(pushed.files, 0);
  assert.deepEqual(pushed.conflicts, [remote("s1/a.txt")]);
  const check = join(tmp, "check.txt");
  await b.tcfsJson<PullSummary>(["pull", remote("s1/a.txt"), check]);
  assert.equal(await Deno.readTextFile(check), "B's newer edit\n");
});

Deno.test("a copy pulled elsewhere leaves the synced place its base: an edit there pushes as usual", async () => {
  const { tmp, a, remote, s1 } = await fleet();
  await Deno.writeTextFile(join(s1(a), "a.txt"), "first\n");
  await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  const copy = join(tmp, "copy.txt");
  await a.tcfsJson<PullSummary>(["pull", remote("s1/a.txt"), copy]);
  assert.equal(await Deno.readTextFile(copy), "first\n");
  await Deno.writeTextFile(join(s1(a), "a.txt"), "second\n");
  const pushed = await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  assert.deepEqual([pushed.files, pushed.conflicts], [1, []]);
});

/** The state rows of `home` under tcfs/default at or below `rel`. */
function trackedPaths(home: string): string[] {
  return stateRows(home, "SELECT path FROM tracked WHERE kind != 'deleted' ORDER BY path")
    .map((row) => String(row.path));
}

async function storeFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory) out.push(...await storeFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

Deno.test("a new exclude pattern untracks the paths it filters out on this device and deletes nothing", async () => {
  const { tmp, a, b, remote, s1 } = await fleet();
  await Deno.writeTextFile(join(s1(a), "keep.txt"), "kept\n");
  await Deno.mkdir(join(s1(a), "build"));
  await Deno.writeTextFile(join(s1(a), "build", "out.bin"), "built\n");
  await Deno.writeTextFile(join(s1(a), "trace.log"), "logged\n");
  await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);

  const excluding = { TCFS_EXCLUDE_PATTERNS: "*.log,build" };
  const again = await a.tcfs(["push", "--json", s1(a), remote("s1")], { env: excluding });
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout) as PushSummary;
  assert.equal(summary.deleted, 0);
  assert.equal(summary.untracked, 2);
  assert.deepEqual(trackedPaths(a.home), ["s1/keep.txt"]);

  // The other device still gets them: no deletion went into the store.
  const pulled = await b.tcfsJson<PullSummary>(["pull", remote("s1"), s1(b)]);
  assert.equal(pulled.deleted, 0);
  assert.equal(await Deno.readTextFile(join(s1(b), "trace.log")), "logged\n");
  assert.equal(await Deno.readTextFile(join(s1(b), "build", "out.bin")), "built\n");
  // Nor does a later push with the pattern delete them.
  const third = await a.tcfs(["push", "--json", s1(a), remote("s1")], { env: excluding });
  assert.equal((JSON.parse(third.stdout) as PushSummary).deleted, 0);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("a push that would delete most of a folder stops until --allow-mass-delete", async () => {
  const { tmp, a, b, remote, s1 } = await fleet();
  for (let i = 0; i < 120; i++) await Deno.writeTextFile(join(s1(a), `f${i}.txt`), `${i}\n`);
  await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  const before = await storeFiles(join(tmp, "store"));
  // The folder now looks like an unmounted drive's mount point.
  await Deno.remove(s1(a), { recursive: true });
  await Deno.mkdir(s1(a));

  const refused = await a.tcfs(["push", "--json", s1(a), remote("s1")]);
  assert.equal(refused.code, 1);
  const error = JSON.parse(refused.stdout).error;
  assert.equal(error.kind, "mass_delete");
  assert.match(error.message, /would delete 120 of the 120 files/);
  assert.match(error.hint, /--allow-mass-delete/);
  assert.deepEqual(await storeFiles(join(tmp, "store")), before, "nothing was written");
  assert.equal(trackedPaths(a.home).length, 120);
  const pulled = await b.tcfsJson<PullSummary>(["pull", remote("s1"), s1(b)]);
  assert.equal(pulled.files, 120);

  // Below the minimum count, or below the share, a push deletes as asked.
  const few = await a.tcfs(["push", "--json", s1(a), remote("s1")], {
    env: { TCFS_MASS_DELETE_MIN_FILES: "121" },
  });
  assert.equal(few.code, 0, few.stdout);
  assert.equal((JSON.parse(few.stdout) as PushSummary).deleted, 120);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("--allow-mass-delete pushes the deletions; the limits come from the config", async () => {
  const { tmp, a, remote, s1 } = await fleet();
  for (let i = 0; i < 10; i++) await Deno.writeTextFile(join(s1(a), `f${i}.txt`), `${i}\n`);
  await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  for (let i = 0; i < 6; i++) await Deno.remove(join(s1(a), `f${i}.txt`));
  const strict = { TCFS_MASS_DELETE_MIN_FILES: "5", TCFS_MASS_DELETE_RATIO: "0.5" };
  const refused = await a.tcfs(["push", "--json", s1(a), remote("s1")], { env: strict });
  assert.equal(JSON.parse(refused.stdout).error.kind, "mass_delete", refused.stdout);
  const loose = await a.tcfs(["push", "--json", s1(a), remote("s1")], {
    env: { ...strict, TCFS_MASS_DELETE_RATIO: "0.6" },
  });
  assert.equal(loose.code, 0, loose.stdout);
  assert.equal((JSON.parse(loose.stdout) as PushSummary).deleted, 6);

  for (let i = 6; i < 10; i++) await Deno.remove(join(s1(a), `f${i}.txt`));
  const tight = { TCFS_MASS_DELETE_MIN_FILES: "1", TCFS_MASS_DELETE_RATIO: "0" };
  const allowed = await a.tcfs(["push", "--json", "--allow-mass-delete", s1(a), remote("s1")], {
    env: tight,
  });
  assert.equal(allowed.code, 0, allowed.stdout);
  assert.equal((JSON.parse(allowed.stdout) as PushSummary).deleted, 4);
  const bad = await a.tcfs(["push", "--json", s1(a), remote("s1")], {
    env: { TCFS_MASS_DELETE_RATIO: "2" },
  });
  assert.equal(JSON.parse(bad.stdout).error.kind, "config_invalid");
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("push --dry-run lists what would happen per path and writes nothing", async () => {
  const { tmp, a, b, remote, s1 } = await fleet();
  for (const name of ["same.txt", "edited.txt", "gone.txt", "theirs.txt", "noise.log"]) {
    await Deno.writeTextFile(join(s1(a), name), `${name}\n`);
  }
  await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  await b.tcfsJson<PullSummary>(["pull", remote("s1"), s1(b)]);
  await Deno.writeTextFile(join(s1(b), "theirs.txt"), "B's edit\n");
  await b.tcfsJson<PushSummary>(["push", s1(b), remote("s1")]);
  await Deno.writeTextFile(join(s1(a), "theirs.txt"), "A's edit\n");
  await Deno.writeTextFile(join(s1(a), "edited.txt"), "edited\n");
  await Deno.writeTextFile(join(s1(a), "new.txt"), "new\n");
  await Deno.remove(join(s1(a), "gone.txt"));

  const env = { TCFS_EXCLUDE_PATTERNS: "*.log" };
  const storeBefore = await storeFiles(join(tmp, "store"));
  const rowsBefore = stateRows(a.home, "SELECT * FROM tracked ORDER BY path");
  const dry = await a.tcfs(["push", "--json", "--dry-run", s1(a), remote("s1")], { env });
  assert.equal(dry.code, 3, dry.stderr); // a conflict is still a conflict
  const summary = JSON.parse(dry.stdout) as PushSummary;
  assert.deepEqual(summary.planned, [
    { path: remote("s1/edited.txt"), action: "upload" },
    { path: remote("s1/gone.txt"), action: "delete" },
    { path: remote("s1/new.txt"), action: "upload" },
    { path: remote("s1/noise.log"), action: "untrack_excluded" },
    { path: remote("s1/same.txt"), action: "unchanged" },
    { path: remote("s1/theirs.txt"), action: "conflict" },
  ]);
  assert.deepEqual(summary.conflicts, [remote("s1/theirs.txt")]);
  assert.deepEqual(await storeFiles(join(tmp, "store")), storeBefore, "nothing in the store");
  assert.deepEqual(stateRows(a.home, "SELECT * FROM tracked ORDER BY path"), rowsBefore);
  assert.deepEqual(stateRows(a.home, "SELECT * FROM conflicts"), [], "no conflict queued");

  const human = await a.tcfs(["push", "--dry-run", s1(a), remote("s1")], { env });
  assert.match(human.stdout, /^delete +tcfs\/default\/s1\/gone\.txt$/m);
  assert.match(human.stdout, /dry run: nothing was written/);

  // The real push does what the dry run said.
  const pushed = await a.tcfs(["push", "--json", s1(a), remote("s1")], { env });
  assert.equal(pushed.code, 3, pushed.stderr);
  const real = JSON.parse(pushed.stdout) as PushSummary;
  assert.equal(real.planned, undefined);
  assert.deepEqual([real.files, real.deleted, real.untracked], [2, 1, 1]);
  assert.deepEqual(real.conflicts, [remote("s1/theirs.txt")]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("a sync root gets its .tcfs-root marker on its first push or enroll, never synced; an emptied root without it is refused", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-root-marker-" });
  const root = join(tmp, "devA", "Sync");
  const a = await makeDeviceHome(tmp, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp}/store`,
    TCFS_SYNC_ROOT: root,
  });
  await Deno.mkdir(join(root, "docs"), { recursive: true });
  await Deno.writeTextFile(join(root, "docs", "a.txt"), "a\n");
  // A dry run of a new root writes no marker; the real push of a folder in it adds one.
  await a.tcfsJson<PushSummary>(["push", "--dry-run", join(root, "docs")]);
  await assert.rejects(Deno.stat(join(root, ".tcfs-root")), Deno.errors.NotFound);
  const first = await a.tcfsJson<PushSummary>(["push", join(root, "docs")]);
  assert.equal(first.files, 1);
  await Deno.stat(join(root, ".tcfs-root"));
  await Deno.remove(join(root, ".tcfs-root"));
  // Outside the sync root nothing changes.
  await Deno.writeTextFile(join(tmp, "loose.txt"), "loose\n");
  await a.tcfsJson<PushSummary>(["push", join(tmp, "loose.txt")]);
  await assert.rejects(Deno.stat(join(tmp, ".tcfs-root")), Deno.errors.NotFound);

  const enrolled = await a.tcfsJson<{ sync_root: { path: string; marker: string } }>([
    "device",
    "enroll",
    "--name",
    "devA",
    "--no-service",
  ]);
  // A root synced before markers existed, still holding its files, is adopted.
  assert.deepEqual(enrolled.sync_root, { path: root, marker: "adopted", problem: null });
  await Deno.stat(join(root, ".tcfs-root"));
  const pushed = await a.tcfsJson<PushSummary>(["push", root]);
  assert.equal(pushed.unchanged, 1);
  const listed = await a.tcfs(["ls", "--json", "tcfs/default/"]);
  assert.doesNotMatch(listed.stdout, /tcfs-root/);

  // An emptied root that files were synced from (an unmounted drive) gets no marker.
  await Deno.remove(root, { recursive: true });
  await Deno.mkdir(root);
  const again = await a.tcfsJson<{ sync_root: { problem: { message: string } } }>([
    "device",
    "enroll",
    "--name",
    "devA",
    "--no-service",
  ]);
  assert.match(
    again.sync_root.problem.message,
    /none of the 1 files synced from it is there: is the drive mounted/,
  );
  await assert.rejects(Deno.stat(join(root, ".tcfs-root")), Deno.errors.NotFound);
  // A stray file in the mount point (a .DS_Store) does not make it a root with its files.
  await Deno.writeTextFile(join(root, ".DS_Store"), "stray\n");
  for (const dryRun of [["--dry-run"], []]) {
    const refused = await a.tcfs(["push", "--json", ...dryRun, root]);
    assert.equal(refused.code, 1, refused.stdout);
    const error = JSON.parse(refused.stdout).error;
    assert.equal(error.kind, "root_marker_missing");
    assert.match(error.hint, /touch .*Sync\/\.tcfs-root/);
  }
  await assert.rejects(Deno.stat(join(root, ".tcfs-root")), Deno.errors.NotFound);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("a folder push deletes no path this device pulled to another place in it", async () => {
  const { tmp, a, b, remote, s1 } = await fleet();
  await Deno.mkdir(join(s1(b), "x"));
  await Deno.writeTextFile(join(s1(b), "x", "a.txt"), "from B\n");
  await b.tcfsJson<PushSummary>(["push", s1(b), remote("s1")]);
  // A keeps s1/x/a.txt at s1/y/a.txt: its row records that place, not s1/x/a.txt.
  await a.tcfsJson<PullSummary>(["pull", remote("s1/x/a.txt"), join(s1(a), "y", "a.txt")]);
  const pushed = await a.tcfsJson<PushSummary>(["push", s1(a), remote("s1")]);
  assert.equal(pushed.deleted, 0);
  const check = join(tmp, "check.txt");
  await b.tcfsJson<PullSummary>(["pull", remote("s1/x/a.txt"), check]);
  assert.equal(await Deno.readTextFile(check), "from B\n");
  await Deno.remove(tmp, { recursive: true });
});
