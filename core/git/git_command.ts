/**
 * Runs `git` on one repository of a sync root, when git is installed: tcfs uses it to tell
 * whether one commit descends from another and to bring an index in line with a pulled HEAD.
 * Without git, those steps are left out and the repository syncs as plain files.
 *
 * @module
 */

import { basename, dirname } from "node:path";

/** What one git command said. */
export interface GitOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `git <args>` on the git directory `gitDir` (absolute). A `.git` folder's working tree is
 * its parent; a submodule's directory names its own (`core.worktree`). Undefined when git is
 * not installed.
 *
 * @example
 * ```ts
 * const head = await runGit("/home/me/Sync/proj/.git", ["rev-parse", "-q", "--verify", "HEAD"]);
 * ```
 */
export async function runGit(
  gitDir: string,
  args: readonly string[],
): Promise<GitOutput | undefined> {
  const tree = basename(gitDir) === ".git" ? [`--work-tree=${dirname(gitDir)}`] : [];
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("git", {
      args: [`--git-dir=${gitDir}`, ...tree, ...args],
      cwd: basename(gitDir) === ".git" ? dirname(gitDir) : gitDir,
      stdin: "null",
      // No locks for reads tcfs makes on the side, no prompts, no pager, no user hooks' reach.
      env: { GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat" },
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/**
 * Whether commit `ancestor` is reachable from commit `descendant` in the repository; undefined
 * when git can't tell (git missing, an object absent).
 *
 * @example
 * ```ts
 * await isAncestor("/home/me/Sync/proj/.git", oldTip, newTip); // true for a fast-forward
 * ```
 */
export async function isAncestor(
  gitDir: string,
  ancestor: string,
  descendant: string,
): Promise<boolean | undefined> {
  const out = await runGit(gitDir, ["merge-base", "--is-ancestor", ancestor, descendant]);
  return out?.code === 0 ? true : out?.code === 1 ? false : undefined;
}
