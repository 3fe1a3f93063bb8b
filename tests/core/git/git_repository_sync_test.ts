/**
 * A git repository in a sync root, used on two devices against the test SeaweedFS: a seeded
 * mix of commits on either device, branch switches, `git gc`, rebases, `git status`/`git log`
 * (which must push nothing) and concurrent commits on one branch (with a `git gc` on one side
 * in every other such step), with a full sync (push and pull on both, until nothing moves)
 * after every step. After each: `git fsck --full` passes on both, both show the same refs and
 * HEAD, no conflict copy exists inside `.git`, no conflict is queued, and `git status` is clean
 * on both, except right after concurrent commits, where both show the same untracked files of
 * the tip that lost, whose commit stays reachable under refs/tcfs-conflicts/ on both (and
 * `tcfs conflicts` lists it) until a merge and the ref's deletion.
 *
 * The seed is printed on failure; `TCFS_GIT_SEED=<n>` replays one, `TCFS_GIT_LOG=1` prints the
 * steps of a run that passed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { openSyncDevice, type SyncDevice } from "../../support/sync_device.ts";
import { freshFleetBucket } from "../../support/fleet_bucket.ts";
import { writeRandomFile } from "../../support/random_bytes.ts";
import { seededRandom } from "../../faults/seeded_random.ts";
import { listConflicts } from "../../../core/conflicts/conflict_queue.ts";
import { pathHeads } from "../../../core/sync/sync_context.ts";
import { listConflictRefs } from "../../../core/git/conflict_refs.ts";
import { filesBelow, git } from "../../support/git_repo.ts";

const STEPS = 32;
const SEED = Number(Deno.env.get("TCFS_GIT_SEED") ?? 20261204);

Deno.test({
  name: `a git repository used on two devices stays valid and conflict-free (seed ${SEED})`,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tcfs-git-" });
    const log: string[] = [];
    try {
      await runScenario(dir, log);
      if (Deno.env.get("TCFS_GIT_LOG")) console.log(log.join("\n"));
    } catch (err) {
      throw new Error(
        `git scenario failed with seed ${SEED} (replay: TCFS_GIT_SEED=${SEED})\n` +
          `steps:\n${log.join("\n")}\n${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function runScenario(dir: string, log: string[]): Promise<void> {
  const random = seededRandom(SEED);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  await using store = await freshFleetBucket().openStore();
  using a = await openSyncDevice(dir, "alpha", store, "auto");
  using b = await openSyncDevice(dir, "bravo", store, "auto");
  const repo = (d: SyncDevice) => join(d.root, "proj");
  let counter = 0;

  /** Push and pull on both until a round moves nothing; returns the bytes pulled. */
  const sync = async (first: SyncDevice = a) => {
    const order = first === a ? [a, b] : [b, a];
    let downloaded = 0;
    for (let round = 0;; round++) {
      assert.ok(round < 4, "sync did not settle in 4 rounds");
      let moved = 0;
      for (const d of order) {
        const s = await d.pushAll();
        assert.deepEqual(s.failures, [], `${d.ctx.device.name} push failures`);
        moved += s.files + s.deleted;
      }
      for (const d of order) {
        const s = await d.pullAll();
        assert.deepEqual(s.failures, [], `${d.ctx.device.name} pull failures`);
        moved += s.files + s.deleted + s.auto_resolved.length;
        downloaded += s.bytes_downloaded;
      }
      if (moved === 0) return downloaded;
    }
  };

  const refsOf = async (d: SyncDevice) => {
    const refs = await git(repo(d), "for-each-ref", "--format=%(refname) %(objectname)");
    const head = await git(repo(d), "symbolic-ref", "-q", "HEAD").catch(() => "detached");
    return { head, refs };
  };
  const withoutConflictRefs = (refs: string) =>
    refs.split("\n").filter((l) => !l.startsWith("refs/tcfs-conflicts/")).join("\n");

  /** The checks after every sync; `untracked`: what `git status` may show (a lost tip's files). */
  const check = async (untracked: string[] = []) => {
    const [refsA, refsB] = [await refsOf(a), await refsOf(b)];
    assert.equal(refsA.head, refsB.head, "HEAD differs");
    assert.equal(withoutConflictRefs(refsA.refs), withoutConflictRefs(refsB.refs), "refs differ");
    for (const d of [a, b]) {
      const name = d.ctx.device.name;
      await git(repo(d), "fsck", "--full", "--no-dangling");
      const status = (await git(repo(d), "status", "--porcelain")).split("\n").filter(Boolean);
      assert.deepEqual(
        status.sort(),
        untracked.map((f) => `?? ${f}`).sort(),
        `git status on ${name}`,
      );
      const copies = (await filesBelow(join(repo(d), ".git"))).filter((f) =>
        f.includes(".conflict-")
      );
      assert.deepEqual(copies, [], `conflict copies inside .git on ${name}`);
      assert.deepEqual(listConflicts(d.ctx.state), [], `queued conflicts on ${name}`);
    }
  };

  const commit = async (d: SyncDevice, what: string) => {
    const file = `${d.ctx.device.name}-${++counter}.txt`;
    await Deno.writeTextFile(join(repo(d), file), `${what} ${counter}\n`);
    await git(repo(d), "add", "-A");
    await git(repo(d), "commit", "-q", "-m", `${what} ${counter}`);
    return { file, commit: (await git(repo(d), "rev-parse", "HEAD")).trim() };
  };

  // The repository starts on alpha with a large file, so its pack dwarfs a commit's objects.
  await Deno.mkdir(repo(a));
  await git(repo(a), "init", "-q", "-b", "main");
  await writeRandomFile(join(repo(a), "data.bin"), 1 << 20, SEED);
  await commit(a, "initial");
  await git(repo(a), "gc", "-q");
  await sync();
  await check();
  const index = await pathHeads(a.ctx, "proj/.git/index");
  assert.equal(index.heads.length, 0, "the index was pushed");
  log.push("initial repository synced");

  for (let step = 1; step <= STEPS; step++) {
    // Every fourth step, both commit before a sync; every eighth, one of them runs git gc too.
    const kind = step % 8 === 0
      ? "concurrent"
      : step % 4 === 0
      ? "gc-race"
      : pick(["commit", "commit", "commit", "branch", "gc", "rebase", "look"] as const);
    const racing = kind === "concurrent" || kind === "gc-race";
    // Devices take turns; racing steps alternate which one syncs first (and so which one
    // meets the conflict and resolves it) and which one runs the gc.
    const d = racing ? [a, a, b, b][Math.floor(step / 4) % 4] : step % 2 === 1 ? a : b;
    const other = d === a ? b : a;
    const name = d.ctx.device.name;
    const branches = (await git(repo(d), "branch", "--format=%(refname:short)"))
      .split("\n").filter(Boolean);
    const current = (await git(repo(d), "branch", "--show-current")).trim();
    if (kind === "commit") {
      await commit(d, "commit");
      const pushed = await d.pushAll();
      // The new objects (a few small files), not the packs that hold the megabyte.
      assert.ok(
        pushed.bytes_uploaded < 64 * 1024,
        `a commit pushed ${pushed.bytes_uploaded} bytes`,
      );
      log.push(`${step}: commit on ${name} (${current}), pushed ${pushed.bytes_uploaded} bytes`);
    } else if (kind === "branch") {
      const others = branches.filter((br) => br !== current);
      const target = others.length > 0 && random() < 0.5 ? pick(others) : `feature-${step}`;
      if (branches.includes(target)) await git(repo(d), "checkout", "-q", target);
      else await git(repo(d), "checkout", "-q", "-b", target);
      log.push(`${step}: ${name} switches to ${target}`);
    } else if (kind === "look") {
      // Reading the repository writes only this machine's files (the index's stats).
      await git(repo(d), "status");
      await git(repo(d), "log", "--oneline", "-5");
      const pushed = await d.pushAll();
      assert.equal(pushed.files + pushed.deleted, 0, "git status and git log pushed something");
      log.push(`${step}: git status and git log on ${name}`);
    } else if (kind === "gc") {
      await git(repo(d), "gc", "-q");
      log.push(`${step}: git gc on ${name}`);
    } else if (kind === "rebase") {
      if (current === "main") {
        const feature = branches.find((br) => br !== "main");
        if (feature === undefined) {
          await git(repo(d), "checkout", "-q", "-b", `feature-${step}`);
          await commit(d, "feature");
        } else await git(repo(d), "checkout", "-q", feature);
      }
      const onto = (await git(repo(d), "branch", "--show-current")).trim();
      await git(repo(d), "checkout", "-q", "main");
      await commit(d, "main moves");
      await git(repo(d), "checkout", "-q", onto);
      await git(repo(d), "rebase", "-q", "main");
      log.push(`${step}: ${name} rebases ${onto} onto main`);
    }
    if (!racing) {
      const pulled = await sync(d);
      log.push(`${step}: the sync pulled ${pulled} bytes`);
      await check();
      continue;
    }
    // Both commit on the branch they share, then sync: one tip stays, the other is kept.
    const mine = await commit(d, "concurrent");
    // The gc packs the branch's ref here while the other moves it as a loose file.
    if (kind === "gc-race") await git(repo(d), "gc", "-q");
    const theirs = await commit(other, "concurrent");
    log.push(
      `${step}: concurrent commits on ${current}: ${name} ${mine.commit.slice(0, 8)}` +
        `${kind === "gc-race" ? " (and git gc)" : ""}, ` +
        `${other.ctx.device.name} ${theirs.commit.slice(0, 8)}; ${name} syncs first`,
    );
    await sync(d);
    // alpha's name is the smaller: its tip stays, bravo's files are in the tree, untracked.
    const lost = d === b ? mine : theirs;
    const kept = d === a ? mine : theirs;
    await check([lost.file]);
    for (const x of [a, b]) {
      const tip = (await git(repo(x), "rev-parse", "HEAD")).trim();
      assert.equal(tip, kept.commit, `the branch on ${x.ctx.device.name} follows alpha's tip`);
      const holders = await git(
        repo(x),
        "for-each-ref",
        "--contains",
        lost.commit,
        "--format=%(refname)",
      );
      assert.match(
        holders,
        /^refs\/tcfs-conflicts\/bravo\//m,
        `bravo's tip kept on ${x.ctx.device.name}`,
      );
    }
    // What a user then does: merge the kept tip (its files are already in the tree).
    await Deno.remove(join(repo(a), lost.file));
    const conflictRef =
      (await git(repo(a), "for-each-ref", "--contains", lost.commit, "--format=%(refname)"))
        .split("\n").find((r) => r.startsWith("refs/tcfs-conflicts/"))!;
    for (const x of [a, b]) {
      const listed = (await listConflictRefs(x.ctx.state)).map((r) => [r.git_ref, r.commit]);
      assert.deepEqual(
        listed,
        [[conflictRef, lost.commit]],
        `tcfs conflicts on ${x.ctx.device.name}`,
      );
    }
    await git(repo(a), "merge", "-q", "--no-edit", conflictRef);
    await git(repo(a), "update-ref", "-d", conflictRef);
    await sync();
    await check();
    for (const x of [a, b]) assert.deepEqual(await listConflictRefs(x.ctx.state), []);
    log.push(`${step}: alpha merged ${conflictRef} and deleted it`);
  }
}
