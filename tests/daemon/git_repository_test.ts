/**
 * Two daemons (events over NATS, polling slowed to an hour) keep a git repository in step:
 * commits on either side, `git gc`, a new branch. After each, both converge to the same HEAD
 * with a clean `git status` and a passing `git fsck`, and after the gc the other machine
 * holds no loose object the gc packed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type DaemonDevice, makeDaemonDevice, seaweedEnv, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { startNatsServer } from "../support/nats_process.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { git } from "../support/git_repo.ts";

/** HEAD, branch and status of a repository, or why they can't be read yet. */
async function repoState(dir: string): Promise<string> {
  try {
    await git(dir, "fsck", "--no-dangling");
    const head = (await git(dir, "rev-parse", "HEAD")).trim();
    const branch = (await git(dir, "branch", "--show-current")).trim();
    const status = await git(dir, "status", "--porcelain");
    return `${branch} ${head} status:[${status.trim()}]`;
  } catch (err) {
    return `unreadable: ${(err as Error).message.trim()}`;
  }
}

Deno.test("with two daemons, a git repository stays valid and clean on both through commits and gc", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-git-");
  await using nats = await startNatsServer();
  const env = { ...seaweedEnv("git"), TCFS_NATS_URL: nats.url, TCFS_POLL_INTERVAL_SECS: "3600" };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  await a.start();
  await b.start();
  const repo = (d: DaemonDevice) => join(d.root, "proj");
  const logs = async () =>
    `A: ${await repoState(repo(a))}\nB: ${await repoState(repo(b))}\n` +
    `A log:\n${await a.log()}\nB log:\n${await b.log()}`;
  /** Both repositories show `expected` (branch, HEAD, clean status). */
  const converged = async (from: DaemonDevice) => {
    const expected = await repoState(repo(from));
    assert.match(expected, / status:\[\]$/);
    await waitFor(
      async () => (await repoState(repo(a === from ? b : a))) === expected,
      30_000,
      logs,
    );
    return expected;
  };
  const commit = async (d: DaemonDevice, file: string) => {
    await Deno.writeTextFile(join(repo(d), file), `${file} from ${d.name}\n`);
    await git(repo(d), "add", "-A");
    await git(repo(d), "commit", "-q", "-m", file);
  };
  try {
    await waitFor(
      async () =>
        (await a.status()).nats.state === "connected" &&
        (await b.status()).nats.state === "connected",
      15_000,
      () => "the daemons never connected to NATS",
    );
    await Deno.mkdir(repo(a));
    await git(repo(a), "init", "-q", "-b", "main");
    await writeRandomFile(join(repo(a), "data.bin"), 256 << 10, 3);
    await commit(a, "one.txt");
    await converged(a);

    await commit(b, "two.txt");
    await converged(b);

    await git(repo(a), "gc", "-q");
    await converged(a);
    // B drops the loose objects A's gc packed, once the pack is in.
    await waitFor(
      async () => / ?count: 0$/m.test(await git(repo(b), "count-objects", "-v")),
      30_000,
      async () => `B still holds loose objects:\n${await git(repo(b), "count-objects", "-v")}`,
    );

    await git(repo(b), "checkout", "-q", "-b", "feature");
    await commit(b, "three.txt");
    const state = await converged(b);
    assert.match(state, /^feature /);
  } finally {
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
