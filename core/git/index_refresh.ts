/**
 * A repository's index is one machine's own (it is never synced). When a pull moves HEAD, the
 * index still describes the old commit, and `git status` would show the difference as staged.
 * So before a pull that touches a git directory, tcfs notes whether the index held staged
 * changes; after it, an index that held none (or is missing, as on a machine that has just
 * received the repository) is reset to the new HEAD (`git reset -q`: the index only, never a
 * file of the working tree). Staged changes are never discarded: such an index is left as it
 * is. Without git installed, nothing is done here.
 *
 * @module
 */

import { join } from "node:path";
import { lstatIfPresent } from "../io/lstat_if_present.ts";
import { runGit } from "./git_command.ts";

/** A git directory as it was before a pull. */
export interface IndexSnapshot {
  /** The git directory (absolute). */
  gitDir: string;
  /** HEAD's commit, when it resolved. */
  head?: string;
  hadIndex: boolean;
  /** The index held changes against HEAD (or git could not tell: then it counts as staged). */
  staged: boolean;
}

/**
 * Notes the state of the index of each git directory (absolute) a pull is about to touch;
 * undefined when git is not installed.
 *
 * @example
 * ```ts
 * const before = await snapshotIndexes(["/home/me/Sync/proj/.git"]);
 * ```
 */
export async function snapshotIndexes(
  gitDirs: Iterable<string>,
): Promise<IndexSnapshot[] | undefined> {
  const snapshots: IndexSnapshot[] = [];
  for (const gitDir of gitDirs) {
    // A repository this pull brings for the first time: its index is made after it.
    if (!(await lstatIfPresent(join(gitDir, "HEAD")))?.isFile) {
      snapshots.push({ gitDir, hadIndex: false, staged: false });
      continue;
    }
    const head = await headCommit(gitDir);
    if (head === null) return undefined;
    const hadIndex = (await lstatIfPresent(join(gitDir, "index"))) !== undefined;
    let staged = false;
    if (hadIndex && head !== undefined) {
      const diff = await runGit(gitDir, ["diff-index", "--cached", "--quiet", "HEAD", "--"]);
      staged = diff?.code !== 0;
    }
    snapshots.push({ gitDir, head, hadIndex, staged });
  }
  return snapshots;
}

/**
 * After the pull: resets to HEAD each index that held no staged changes when HEAD has moved
 * (or that is missing), then refreshes its file stats. Returns a message per git directory
 * that could not be brought in line, for the caller to log.
 *
 * @example
 * ```ts
 * for (const problem of await refreshIndexes(before)) log("warning", problem);
 * ```
 */
export async function refreshIndexes(before: readonly IndexSnapshot[]): Promise<string[]> {
  const problems: string[] = [];
  for (const snapshot of before) {
    const { gitDir } = snapshot;
    const head = await headCommit(gitDir);
    if (!head) continue;
    const missing = (await lstatIfPresent(join(gitDir, "index"))) === undefined;
    if (missing || (head !== snapshot.head && !snapshot.staged)) {
      const reset = await runGit(gitDir, ["reset", "-q", "--no-refresh"]);
      if (reset?.code !== 0) {
        problems.push(
          `${gitDir}: could not reset the index to HEAD ${head.slice(0, 12)} ` +
            `(${reset?.stderr.trim()}); run \`git reset\` in that repository once its objects are in`,
        );
        continue;
      }
    } else if (head !== snapshot.head) {
      problems.push(
        `${gitDir}: HEAD moved to ${head.slice(0, 12)} while the index held staged changes; ` +
          "they are kept: look at `git status` there",
      );
    }
    // Stats only: files a pull rewrote with the same content show as unchanged again.
    await runGit(gitDir, ["update-index", "-q", "--refresh"]);
  }
  return problems;
}

/** HEAD's commit; undefined when it does not resolve (an unborn branch), null without git. */
async function headCommit(gitDir: string): Promise<string | undefined | null> {
  const out = await runGit(gitDir, ["rev-parse", "-q", "--verify", "HEAD^{commit}"]);
  if (!out) return null;
  return out.code === 0 ? out.stdout.trim() : undefined;
}
