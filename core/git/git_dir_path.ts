/**
 * What a path inside a git directory is to sync: one machine's state (never synced), an
 * object (immutable content named by its hash), a ref (a versioned value: `HEAD`,
 * `packed-refs`, `refs/**`), or other shared repository files (`config`, `hooks/`, `info/`).
 *
 * A git directory is a `.git` folder anywhere in a tree, and the directories of submodules
 * below it (`.git/modules/<name>/`). Repositories nested in a working tree are repositories
 * of their own, as git sees them: the first `.git` on the path names the one a path is in.
 *
 * @module
 */

/** How a path inside a git directory syncs. */
export type GitPathKind = "machine" | "object" | "ref" | "shared";

/** A path inside a git directory, classified. */
export interface GitDirPath {
  /** The git directory, relative like the path (`proj/.git`, `proj/.git/modules/lib`). */
  gitDir: string;
  /** The path inside the git directory (`refs/heads/main`). */
  inside: string;
  kind: GitPathKind;
}

/** Entries at the top of a git directory that are one machine's state (or a step in flight). */
const MACHINE_TOP = new Set([
  "index",
  "logs",
  "FETCH_HEAD",
  "ORIG_HEAD",
  "MERGE_HEAD",
  "MERGE_MSG",
  "MERGE_MODE",
  "MERGE_RR",
  "AUTO_MERGE",
  "CHERRY_PICK_HEAD",
  "REVERT_HEAD",
  "REBASE_HEAD",
  "BISECT_LOG",
  "BISECT_START",
  "BISECT_TERMS",
  "BISECT_EXPECTED_REV",
  "BISECT_ANCESTORS_OK",
  "BISECT_NAMES",
  "SQUASH_MSG",
  "COMMIT_EDITMSG",
  "TAG_EDITMSG",
  "NOTES_EDITMSG",
  "gc.log",
  "gc.pid",
  "rebase-merge",
  "rebase-apply",
  "sequencer",
  "rr-cache",
  "worktrees",
  "fsmonitor--daemon",
  "fsmonitor--daemon.ipc",
  // tcfs's own note that this machine's index waits for a reset (index_refresh.ts).
  "tcfs-index-pending",
]);

/** Names a git directory holds at its top: where a submodule's directory name ends. */
const GIT_DIR_TOP = new Set([
  ...MACHINE_TOP,
  "HEAD",
  "config",
  "description",
  "hooks",
  "info",
  "objects",
  "refs",
  "packed-refs",
  "modules",
  "branches",
  "shallow",
]);

/**
 * `info/refs` (which `git gc` writes for dumb transports) is derived the same way.
 *
 * Files below `objects/` that git derives from the objects a machine has (commit graphs, the
 * multi-pack index, bitmaps, the dumb-transport pack list) or writes while it works: each
 * machine builds its own, and one built elsewhere would describe packs this one lacks.
 */
const MACHINE_OBJECTS = [
  /^objects\/info\/(commit-graph|commit-graphs\/|packs$)/,
  /^objects\/pack\/(multi-pack-index|.*\.bitmap$)/,
  // Files git writes before it renames them into place, and a push's quarantine.
  /^objects\/(.*\/)?(tmp_|\.tmp-|incoming-)/,
];

/**
 * Classifies `rel` when it lies inside a git directory; undefined otherwise (the `.git` entry
 * itself is not inside: a `.git` file, as worktrees and submodules have, is a plain file).
 *
 * @example
 * ```ts
 * gitDirPath("proj/.git/refs/heads/main"); // { gitDir: "proj/.git", inside: "refs/heads/main", kind: "ref" }
 * gitDirPath("proj/.git/index")?.kind; // "machine"
 * gitDirPath("proj/src/main.ts"); // undefined
 * ```
 */
export function gitDirPath(rel: string): GitDirPath | undefined {
  // Every path a scan meets comes here: most are in no git directory, and say so cheaply.
  if (!rel.includes(".git/")) return undefined;
  const segments = rel.split("/");
  const at = segments.indexOf(".git");
  if (at < 0 || at === segments.length - 1) return undefined;
  let dirEnd = at + 1;
  // A submodule's directory: `modules/<name>/`, where the name may hold slashes and ends where
  // a git directory's own entries begin.
  while (segments[dirEnd] === "modules") {
    const top = segments.findIndex((s, i) => i > dirEnd + 1 && GIT_DIR_TOP.has(s));
    if (top < 0) break;
    dirEnd = top;
  }
  const inside = segments.slice(dirEnd).join("/");
  return { gitDir: segments.slice(0, dirEnd).join("/"), inside, kind: kindOf(inside) };
}

function kindOf(inside: string): GitPathKind {
  const top = inside.split("/", 1)[0];
  if (
    MACHINE_TOP.has(top) || inside.endsWith(".lock") || top.startsWith("sharedindex.") ||
    inside === "info/refs"
  ) {
    return "machine";
  }
  if (top === "objects") {
    return MACHINE_OBJECTS.some((re) => re.test(inside)) ? "machine" : "object";
  }
  if (top === "HEAD" || top === "packed-refs" || top === "refs") return "ref";
  return "shared";
}

/**
 * Whether `rel` is one machine's state inside a git directory, which tcfs never syncs.
 *
 * @example
 * ```ts
 * isMachineGitPath(".git/index"); // true
 * isMachineGitPath(".git/objects/pack/pack-1.pack"); // false
 * ```
 */
export function isMachineGitPath(rel: string): boolean {
  return gitDirPath(rel)?.kind === "machine";
}
