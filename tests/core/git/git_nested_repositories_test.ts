import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { git } from "../../support/git_repo.ts";

Deno.test("a repository with a submodule syncs: both checkouts clean and valid on the other device", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-git-sub-" });
  try {
    const store = createMemoryStore();
    using a = await openSyncDevice(dir, "alpha", store);
    using b = await openSyncDevice(dir, "bravo", store);
    // The submodule's upstream lies outside the sync root.
    const upstream = join(dir, "upstream");
    await Deno.mkdir(upstream);
    await git(upstream, "init", "-q", "-b", "main");
    await Deno.writeTextFile(join(upstream, "lib.txt"), "lib\n");
    await git(upstream, "add", "-A");
    await git(upstream, "commit", "-q", "-m", "lib");
    const proj = (root: string) => join(root, "proj");
    await Deno.mkdir(proj(a.root));
    await git(proj(a.root), "init", "-q", "-b", "main");
    await git(
      proj(a.root),
      "-c",
      "protocol.file.allow=always",
      "submodule",
      "add",
      "-q",
      upstream,
      "vendor/lib",
    );
    await git(proj(a.root), "commit", "-q", "-m", "add lib");
    const check = async (root: string) => {
      for (const repo of [proj(root), join(proj(root), "vendor/lib")]) {
        assert.equal(await git(repo, "status", "--porcelain"), "", repo);
        await git(repo, "fsck", "--no-dangling");
      }
    };
    await a.pushAll();
    await b.pullAll();
    await check(b.root);
    // A commit inside the submodule, recorded in the superproject.
    const lib = join(proj(a.root), "vendor/lib");
    await Deno.writeTextFile(join(lib, "more.txt"), "more\n");
    await git(lib, "add", "-A");
    await git(lib, "commit", "-q", "-m", "more");
    await git(proj(a.root), "commit", "-q", "-am", "bump lib");
    await a.pushAll();
    await b.pullAll();
    await check(b.root);
    assert.equal(
      await git(join(proj(b.root), "vendor/lib"), "rev-parse", "HEAD"),
      await git(lib, "rev-parse", "HEAD"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a linked worktree's .git file is pushed with a warning that says what to do", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-git-wt-" });
  try {
    using a = await openSyncDevice(dir, "alpha", createMemoryStore());
    const warnings: string[] = [];
    a.ctx.log = (level, message) => {
      if (level === "warning") warnings.push(message);
    };
    const proj = join(a.root, "proj");
    await Deno.mkdir(proj);
    await git(proj, "init", "-q", "-b", "main");
    await Deno.writeTextFile(join(proj, "a.txt"), "a\n");
    await git(proj, "add", "-A");
    await git(proj, "commit", "-q", "-m", "a");
    await git(proj, "worktree", "add", "-q", join(a.root, "proj-wt"));
    await a.pushAll();
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /^proj-wt\/\.git makes a linked worktree .* outside the sync root$/);
    // Pushed once: the next push says nothing more.
    await a.pushAll();
    assert.equal(warnings.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
