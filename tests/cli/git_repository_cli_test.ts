import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { git } from "../support/git_repo.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** alpha and bravo, each with a sync root, on one file store; alpha's repository synced to bravo. */
async function gitFleet(tmp: string) {
  const devices: DeviceHome[] = [];
  for (const name of ["alpha", "bravo"]) {
    const root = join(tmp, name, "Sync");
    devices.push(
      await makeDeviceHome(tmp, name, {
        TCFS_S3_ENDPOINT: `file://${tmp}/store`,
        TCFS_SYNC_ROOT: root,
      }),
    );
    await Deno.mkdir(root, { recursive: true });
    await Deno.writeTextFile(join(root, ".tcfs-root"), "");
  }
  const [a, b] = devices;
  const repo = (d: DeviceHome) => join(d.home, "Sync", "proj");
  const push = (d: DeviceHome) => d.tcfsJson<PushSummary>(["push", join(d.home, "Sync")]);
  const pull = (d: DeviceHome) => d.tcfsJson<PullSummary>(["pull", "tcfs/default/"]);
  const commit = async (d: DeviceHome, file: string) => {
    await Deno.writeTextFile(join(repo(d), file), `${file}\n`);
    await git(repo(d), "add", "-A");
    await git(repo(d), "commit", "-q", "-m", file);
    return (await git(repo(d), "rev-parse", "HEAD")).trim();
  };
  await Deno.mkdir(repo(a));
  await git(repo(a), "init", "-q", "-b", "main");
  await commit(a, "one.txt");
  await push(a);
  await pull(b);
  assert.equal(await git(repo(b), "status", "--porcelain"), "");
  return { a, b, repo, push, pull, commit };
}

Deno.test("tcfs conflicts lists the tip kept after concurrent commits, until its ref is deleted", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-git-cli-" });
  try {
    const { a, b, repo, push, pull, commit } = await gitFleet(tmp);
    const alphas = await commit(a, "alpha.txt");
    const bravos = await commit(b, "bravo.txt");
    await push(a);
    assert.deepEqual((await push(b)).conflicts, []);
    const pulled = await pull(b);
    assert.deepEqual(pulled.auto_resolved, ["tcfs/default/proj/.git/refs/heads/main"]);
    assert.equal((await git(repo(b), "rev-parse", "HEAD")).trim(), alphas);
    assert.equal(await git(repo(b), "status", "--porcelain"), "?? bravo.txt\n");
    await git(repo(b), "fsck", "--full", "--no-dangling");

    const ref = `refs/tcfs-conflicts/bravo/main@${bravos.slice(0, 12)}`;
    const listed = await b.tcfsJson<Record<string, unknown>[]>(["conflicts"]);
    assert.deepEqual(
      listed.map(({ detected_by, git_ref, commit, remote_authors }) => ({
        detected_by,
        git_ref,
        commit,
        remote_authors,
      })),
      [{ detected_by: "git", git_ref: ref, commit: bravos, remote_authors: ["bravo"] }],
    );
    const shown = await b.tcfs(["conflicts"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /git tips kept beside their branch/);
    assert.ok(shown.stdout.includes(ref), shown.stdout);

    await Deno.remove(join(repo(b), "bravo.txt"));
    await git(repo(b), "merge", "-q", "--no-edit", ref);
    await git(repo(b), "update-ref", "-d", ref);
    await push(b);
    await pull(a);
    assert.equal(await git(repo(a), "status", "--porcelain"), "");
    for (const d of [a, b]) assert.deepEqual(await d.tcfsJson(["conflicts"]), []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a pull that moves HEAD over staged changes keeps them and says so", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-git-cli-" });
  try {
    const { a, b, repo, push, commit } = await gitFleet(tmp);
    const head = await commit(a, "two.txt");
    await push(a);
    await Deno.writeTextFile(join(repo(b), "staged.txt"), "staged\n");
    await git(repo(b), "add", "staged.txt");
    const pulled = await b.tcfs(["pull", "tcfs/default/"]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(
      pulled.stderr,
      /tcfs: warning: .*HEAD moved to \w+ while the index held staged changes/,
    );
    assert.equal((await git(repo(b), "rev-parse", "HEAD")).trim(), head);
    assert.match(await git(repo(b), "diff", "--cached", "--name-only"), /^staged\.txt$/m);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
