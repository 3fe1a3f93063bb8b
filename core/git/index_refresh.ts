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

/**
 * A file in the git directory saying that its index held no staged changes when a pull moved
 * HEAD to a commit whose objects had not come yet (the daemon pulls as events arrive): the
 * next pull resets it, while the index is still the one it describes. One machine's own.
 */
export const INDEX_PENDING = "tcfs-index-pending";

/**
 * Waits before each new try of a reset that met the index locked (`index.lock`): another git
 * command holds it, most often for milliseconds (`git status` refreshes the index under it).
 * Left to the next pull, the reset might wait for a poll interval with nothing new to pull.
 */
const LOCKED_INDEX_RETRY_MS = [50, 100, 200, 400, 800, 1600];

/** A git directory as it was before a pull. */
export interface IndexSnapshot {
  /** The git directory (absolute). */
  gitDir: string;
  /** HEAD's commit, when it resolved. */
  head?: string;
  /**
   * The index held changes against HEAD, or git could not tell (HEAD unborn or its objects
   * missing): then it counts as staged, and stays as it is.
   */
  staged: boolean;
  /** An earlier pull left the reset to this one ({@linkcode INDEX_PENDING}). */
  pending: boolean;
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
    if (!lstatIfPresent(join(gitDir, "HEAD"))?.isFile) {
      snapshots.push({ gitDir, staged: false, pending: false });
      continue;
    }
    const head = await headCommit(gitDir);
    if (head === null) return undefined;
    const index = lstatIfPresent(join(gitDir, "index"));
    const pending = index !== undefined && await pendingFor(gitDir, index);
    let staged = false;
    if (index && !pending) {
      const diff = head === undefined
        ? undefined
        : await runGit(gitDir, ["diff-index", "--cached", "--quiet", "HEAD", "--"]);
      staged = diff?.code !== 0;
    }
    snapshots.push({ gitDir, head, staged, pending });
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
    const index = lstatIfPresent(join(gitDir, "index"));
    const moved = head !== snapshot.head;
    if (!index || snapshot.pending || (moved && !snapshot.staged)) {
      // HEAD's objects have not all come: the next pull resets the index, if still as it is.
      const reset = head ? await resetIndex(gitDir) : undefined;
      if (reset?.code === 0) {
        await Deno.remove(join(gitDir, INDEX_PENDING)).catch(() => {});
      } else if (index) {
        const { size, mtime } = index;
        await Deno.writeTextFile(
          join(gitDir, INDEX_PENDING),
          JSON.stringify({ size, mtime_ms: mtime?.getTime() ?? 0 }),
        );
      }
      if (reset && reset.code !== 0) {
        problems.push(
          `${gitDir}: could not reset the index to HEAD ${head!.slice(0, 12)} ` +
            `(${reset.stderr.trim()}); the next pull tries again`,
        );
      }
    } else if (moved && head) {
      problems.push(
        `${gitDir}: HEAD moved to ${head.slice(0, 12)} while the index held staged changes; ` +
          "they are kept: look at `git status` there",
      );
    }
    // Stats only: files a pull rewrote with the same content show as unchanged again.
    if (head) await runGit(gitDir, ["update-index", "-q", "--refresh"]);
  }
  return problems;
}

/** `git reset` of the index alone, tried again while another git command holds its lock. */
async function resetIndex(gitDir: string): Promise<Awaited<ReturnType<typeof runGit>>> {
  for (let retry = 0;; retry++) {
    const reset = await runGit(gitDir, ["reset", "-q", "--no-refresh"]);
    const locked = reset?.code !== 0 && reset?.stderr.includes("index.lock");
    if (!locked || retry === LOCKED_INDEX_RETRY_MS.length) return reset;
    await new Promise((resolve) => setTimeout(resolve, LOCKED_INDEX_RETRY_MS[retry]));
  }
}

/** Whether an earlier pull left a reset pending for exactly this index. */
async function pendingFor(gitDir: string, index: Deno.FileInfo): Promise<boolean> {
  let recorded: { size?: number; mtime_ms?: number };
  try {
    recorded = JSON.parse(await Deno.readTextFile(join(gitDir, INDEX_PENDING)));
  } catch {
    return false;
  }
  return recorded.size === index.size && recorded.mtime_ms === (index.mtime?.getTime() ?? 0);
}

/** HEAD's commit; undefined when it does not resolve (an unborn branch), null without git. */
async function headCommit(gitDir: string): Promise<string | undefined | null> {
  const out = await runGit(gitDir, ["rev-parse", "-q", "--verify", "HEAD^{commit}"]);
  if (!out) return null;
  return out.code === 0 ? out.stdout.trim() : undefined;
}
