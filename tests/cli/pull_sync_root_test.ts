import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** Device B pushes into the store; device A syncs into its sync root `root` (named `name`). */
async function rootFleet(name = "Sync") {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-pull-root-" });
  const store = { TCFS_S3_ENDPOINT: `file://${tmp}/store` };
  const root = join(tmp, "devA", name);
  const a = await makeDeviceHome(tmp, "devA", { ...store, TCFS_SYNC_ROOT: root });
  const b = await makeDeviceHome(tmp, "devB", store);
  return {
    tmp,
    a,
    b,
    root,
    [Symbol.asyncDispose]: () => Deno.remove(tmp, { recursive: true }),
  };
}

Deno.test("a pull of one file goes through no link inside the sync root: docs -> outside lands nothing outside", async () => {
  await using fleet = await rootFleet();
  const { a, b, root, tmp } = fleet;
  await Deno.mkdir(join(b.home, "docs"));
  await Deno.writeTextFile(join(b.home, "docs", "authorized_keys"), "ssh-ed25519 attacker\n");
  await b.tcfsJson<PushSummary>(["push", join(b.home, "docs"), "tcfs/default/docs"]);
  // As a pulled link version would have left it: Sync/docs -> a folder outside the root.
  const outside = join(tmp, "dot-ssh");
  await Deno.mkdir(outside);
  await Deno.mkdir(root, { recursive: true });
  await Deno.symlink(outside, join(root, "docs"));

  const result = await a.tcfs(["pull", "--json", "tcfs/default/docs/authorized_keys"]);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const summary = JSON.parse(result.stdout) as PullSummary;
  assert.deepEqual(summary.failures.map((f) => f.path), ["docs/authorized_keys"]);
  assert.match(summary.failures[0].error, /symlink/);
  assert.deepEqual([...Deno.readDirSync(outside)], []);
});

/** A pull into a sync root named `name` after its drive was unmounted is refused, then goes on. */
async function refusedIntoUnmountedRoot(name: string): Promise<void> {
  await using fleet = await rootFleet(name);
  const { a, root } = fleet;
  await Deno.mkdir(join(root, "docs"), { recursive: true });
  await Deno.writeTextFile(join(root, "docs", "a.txt"), "a\n");
  await a.tcfsJson<PushSummary>(["push", join(root, "docs")]);
  await Deno.stat(join(root, ".tcfs-root"));
  // The drive is unmounted: an empty mount point is left.
  await Deno.remove(root, { recursive: true });
  await Deno.mkdir(root);

  for (const dryRun of [["--dry-run"], []]) {
    const refused = await a.tcfs(["pull", "--json", ...dryRun, "tcfs/default/docs"]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.equal(JSON.parse(refused.stdout).error.kind, "root_marker_missing");
  }
  assert.deepEqual([...Deno.readDirSync(root)], []);
  // Once mounted again, the pull goes on as before.
  await Deno.mkdir(join(root, "docs"));
  await Deno.writeTextFile(join(root, "docs", "a.txt"), "a\n");
  const pulled = await a.tcfsJson<PullSummary>(["pull", "tcfs/default/docs"]);
  assert.deepEqual(pulled.failures, []);
  await Deno.stat(join(root, ".tcfs-root"));
}

Deno.test("a pull into the sync root is refused when the root lost its marker and its files (an unmounted drive), dry run too", () =>
  refusedIntoUnmountedRoot("Sync"));

// The files synced from the root were looked up by a prefix whose length JavaScript and SQLite
// count differently outside the BMP: none were found, and the root passed for a new one.
Deno.test("the same for a sync root named with an emoji", () =>
  refusedIntoUnmountedRoot("📦 Sync"));
