import assert from "node:assert/strict";
import { join } from "node:path";
import {
  INDEX_PENDING,
  type IndexSnapshot,
  refreshIndexes,
  snapshotIndexes,
} from "../../../core/git/index_refresh.ts";
import { git } from "../../support/git_repo.ts";

/** A repository with two commits; HEAD is then moved as a pull would (the ref file only). */
async function repoWithPulledHead(dir: string): Promise<{ first: string; second: string }> {
  await git(dir, "init", "-q", "-b", "main");
  await Deno.writeTextFile(join(dir, "a.txt"), "one\n");
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "one");
  const first = (await git(dir, "rev-parse", "HEAD")).trim();
  await Deno.writeTextFile(join(dir, "a.txt"), "two\n");
  await git(dir, "commit", "-q", "-am", "two");
  const second = (await git(dir, "rev-parse", "HEAD")).trim();
  // The machine stood at `first` with its files and index; the pull brings `second`'s files
  // and ref, never the index.
  await git(dir, "reset", "-q", "--hard", first);
  return { first, second };
}

/**
 * {@linkcode repoWithPulledHead}, its index noted as a pull notes it, then the pull's files and
 * ref written: what `refreshIndexes` meets after the pull.
 */
async function pulledOverCleanIndex(dir: string): Promise<IndexSnapshot[]> {
  const { second } = await repoWithPulledHead(dir);
  const before = (await snapshotIndexes([join(dir, ".git")]))!;
  await Deno.writeTextFile(join(dir, "a.txt"), "two\n");
  await Deno.writeTextFile(join(dir, ".git/refs/heads/main"), `${second}\n`);
  return before;
}

Deno.test("a pulled HEAD brings an index without staged changes in line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = await pulledOverCleanIndex(dir);
    assert.equal(before[0].staged, false);
    assert.notEqual(await git(dir, "status", "--porcelain"), "");
    assert.deepEqual(await refreshIndexes(before), []);
    assert.equal(await git(dir, "status", "--porcelain"), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("staged changes are never discarded when a pull moves HEAD", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { second } = await repoWithPulledHead(dir);
    await Deno.writeTextFile(join(dir, "b.txt"), "staged\n");
    await git(dir, "add", "b.txt");
    const before = (await snapshotIndexes([join(dir, ".git")]))!;
    assert.equal(before[0].staged, true);
    await Deno.writeTextFile(join(dir, ".git/refs/heads/main"), `${second}\n`);
    const problems = await refreshIndexes(before);
    assert.match(problems[0], /held staged changes; they are kept/);
    assert.match(await git(dir, "diff", "--cached", "--name-only"), /^b\.txt$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a repository received for the first time gets an index of its HEAD", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await repoWithPulledHead(dir);
    await Deno.remove(join(dir, ".git/index"));
    const before = (await snapshotIndexes([join(dir, ".git")]))!;
    assert.deepEqual(await refreshIndexes(before), []);
    assert.equal(await git(dir, "status", "--porcelain"), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a HEAD whose objects come with a later pull gets its index reset then", async () => {
  const dir = await Deno.makeTempDir();
  const elsewhere = await Deno.makeTempDir();
  try {
    await git(dir, "init", "-q", "-b", "main");
    await Deno.writeTextFile(join(dir, "a.txt"), "one\n");
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", "one");
    // Another machine commits; this one first gets the ref and the file, not the objects.
    await git(elsewhere, "clone", "-q", dir, ".");
    await Deno.writeTextFile(join(elsewhere, "a.txt"), "two\n");
    await git(elsewhere, "commit", "-q", "-am", "two");
    const second = (await git(elsewhere, "rev-parse", "HEAD")).trim();
    const gitDir = join(dir, ".git");
    let before = (await snapshotIndexes([gitDir]))!;
    await Deno.writeTextFile(join(dir, "a.txt"), "two\n");
    await Deno.writeTextFile(join(gitDir, "refs/heads/main"), `${second}\n`);
    assert.deepEqual(await refreshIndexes(before), []);
    assert.ok((await Deno.stat(join(gitDir, INDEX_PENDING))).isFile);
    // The objects come: HEAD resolves now and did before this pull, but the reset was pending.
    await new Deno.Command("cp", {
      args: ["-r", `${elsewhere}/.git/objects/.`, `${gitDir}/objects/`],
    })
      .output();
    before = (await snapshotIndexes([gitDir]))!;
    assert.deepEqual(before[0].pending, true);
    assert.deepEqual(await refreshIndexes(before), []);
    assert.equal(await git(dir, "status", "--porcelain"), "");
    await assert.rejects(Deno.stat(join(gitDir, INDEX_PENDING)), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("an index locked for a moment by another git command is reset once the lock goes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = await pulledOverCleanIndex(dir);
    // As `git status` holds it while it refreshes the index.
    const lock = join(dir, ".git/index.lock");
    await Deno.writeTextFile(lock, "");
    const released = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
      Deno.remove(lock)
    );
    const problems = await refreshIndexes(before);
    await released;
    assert.deepEqual(problems, []);
    assert.equal(await git(dir, "status", "--porcelain"), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an index locked for good is left to the next pull, which resets it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = await pulledOverCleanIndex(dir);
    const lock = join(dir, ".git/index.lock");
    await Deno.writeTextFile(lock, "");
    const problems = await refreshIndexes(before);
    assert.match(
      problems[0],
      /could not reset the index .*index\.lock.*the next pull tries again/s,
    );
    await Deno.remove(lock);
    const next = (await snapshotIndexes([join(dir, ".git")]))!;
    assert.equal(next[0].pending, true);
    assert.deepEqual(await refreshIndexes(next), []);
    assert.equal(await git(dir, "status", "--porcelain"), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
