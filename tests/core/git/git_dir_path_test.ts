import assert from "node:assert/strict";
import { gitDirPath, isMachineGitPath } from "../../../core/git/git_dir_path.ts";
import { createExcludeMatcher, createPathExcluder } from "../../../core/sync/exclude_matcher.ts";

Deno.test("paths inside a git directory are classified by what they are to git", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    // path, kind, git directory
    [".git/index", "machine", ".git"],
    ["proj/.git/index", "machine", "proj/.git"],
    ["proj/.git/index.lock", "machine", "proj/.git"],
    ["proj/.git/logs/HEAD", "machine", "proj/.git"],
    ["proj/.git/logs/refs/heads/main", "machine", "proj/.git"],
    ["proj/.git/FETCH_HEAD", "machine", "proj/.git"],
    ["proj/.git/ORIG_HEAD", "machine", "proj/.git"],
    ["proj/.git/COMMIT_EDITMSG", "machine", "proj/.git"],
    ["proj/.git/gc.log", "machine", "proj/.git"],
    ["proj/.git/rebase-merge/done", "machine", "proj/.git"],
    ["proj/.git/worktrees/wt/HEAD", "machine", "proj/.git"],
    ["proj/.git/refs/heads/main.lock", "machine", "proj/.git"],
    ["proj/.git/info/refs", "machine", "proj/.git"],
    ["proj/.git/objects/info/commit-graph", "machine", "proj/.git"],
    ["proj/.git/objects/info/commit-graphs/graph-1.graph", "machine", "proj/.git"],
    ["proj/.git/objects/pack/multi-pack-index", "machine", "proj/.git"],
    ["proj/.git/objects/pack/pack-1.bitmap", "machine", "proj/.git"],
    ["proj/.git/objects/pack/tmp_pack_x", "machine", "proj/.git"],
    ["proj/.git/objects/ab/tmp_obj_Xy12", "machine", "proj/.git"],
    ["proj/.git/objects/pack/.tmp-123-pack-1.pack", "machine", "proj/.git"],
    ["proj/.git/objects/ab/cdef0123", "object", "proj/.git"],
    ["proj/.git/objects/pack/pack-1.pack", "object", "proj/.git"],
    ["proj/.git/objects/pack/pack-1.idx", "object", "proj/.git"],
    ["proj/.git/HEAD", "ref", "proj/.git"],
    ["proj/.git/packed-refs", "ref", "proj/.git"],
    ["proj/.git/refs/heads/feature/x", "ref", "proj/.git"],
    ["proj/.git/refs/tcfs-conflicts/laptop/main@0123456789ab", "ref", "proj/.git"],
    ["proj/.git/config", "shared", "proj/.git"],
    ["proj/.git/hooks/pre-commit", "shared", "proj/.git"],
    ["proj/.git/info/exclude", "shared", "proj/.git"],
    // A submodule's directory, its name holding a slash.
    ["proj/.git/modules/lib/json/index", "machine", "proj/.git/modules/lib/json"],
    ["proj/.git/modules/lib/json/refs/heads/main", "ref", "proj/.git/modules/lib/json"],
    ["proj/.git/modules/lib/json/objects/ab/cd", "object", "proj/.git/modules/lib/json"],
    ["proj/.git/modules/a/modules/b/HEAD", "ref", "proj/.git/modules/a/modules/b"],
    // A repository nested in another's working tree is its own.
    ["proj/vendor/dep/.git/index", "machine", "proj/vendor/dep/.git"],
    // Not inside a git directory: the working tree, and a `.git` file.
    ["proj/src/index", undefined, undefined],
    ["proj/.git", undefined, undefined],
    ["proj/.gitignore", undefined, undefined],
  ];
  for (const [path, kind, gitDir] of cases) {
    const at = gitDirPath(path);
    assert.equal(at?.kind, kind, path);
    assert.equal(at?.gitDir, gitDir, path);
  }
  assert.equal(gitDirPath("proj/.git/refs/heads/main")?.inside, "refs/heads/main");
  assert.equal(isMachineGitPath("a/.git/logs"), true);
  assert.equal(isMachineGitPath("a/.git/objects/00/11"), false);
});

Deno.test("the exclude matchers leave a machine's git files out, also below a pushed folder", () => {
  const excluded = createExcludeMatcher([]);
  assert.equal(excluded("proj/.git/index"), true);
  assert.equal(excluded("proj/.git/logs"), true);
  assert.equal(excluded("proj/.git/HEAD"), false);
  assert.equal(excluded("proj/index"), false);
  // A scan of the git directory itself sees paths relative to it.
  const below = createExcludeMatcher([], "proj/.git");
  assert.equal(below("index"), true);
  assert.equal(below("refs/heads/main"), false);
  // Paths known from elsewhere (events, tracked rows), below an excluded folder.
  assert.equal(createPathExcluder([])("proj/.git/logs/refs/heads/main"), true);
});
