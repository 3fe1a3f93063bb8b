/**
 * A linked worktree (`git worktree add`) is a folder whose `.git` file points into another
 * repository's `worktrees/`, which is one machine's own (git_dir_path.ts). Its files sync as
 * any others, but on another machine git finds no repository there. tcfs says so when it pushes
 * such a pointer.
 *
 * @module
 */

import { basename } from "node:path";

/**
 * The git directory a `.git` file at `localPath` points to when it is a linked worktree's
 * (below a `worktrees/` folder); undefined for any other file (a submodule's pointer, say).
 *
 * @example
 * ```ts
 * await linkedWorktreeOf("/home/me/Sync/proj-wt/.git"); // "/home/me/Sync/proj/.git/worktrees/proj-wt"
 * ```
 */
export async function linkedWorktreeOf(localPath: string): Promise<string | undefined> {
  if (basename(localPath) !== ".git") return undefined;
  let text: string;
  try {
    using file = await Deno.open(localPath);
    const head = new Uint8Array(4096);
    const n = await file.read(head);
    text = new TextDecoder().decode(head.subarray(0, n ?? 0));
  } catch {
    return undefined;
  }
  const gitdir = /^gitdir: (.+)$/m.exec(text)?.[1]?.trim();
  return gitdir !== undefined && /(^|\/)worktrees\/[^/]+\/?$/.test(gitdir) ? gitdir : undefined;
}

/**
 * The warning for a linked worktree whose `.git` file at `rel` points to `gitdir`.
 *
 * @example
 * ```ts
 * ctx.log?.("warning", linkedWorktreeWarning("proj-wt/.git", gitdir));
 * ```
 */
export function linkedWorktreeWarning(rel: string, gitdir: string): string {
  return `${rel} makes a linked worktree (git worktree add) of ${gitdir}: its git state stays ` +
    "on this machine, so elsewhere git finds no repository there; keep linked worktrees " +
    "outside the sync root";
}
