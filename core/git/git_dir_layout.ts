/**
 * The folders git needs to see a repository: tcfs syncs files, and a git directory whose
 * refs are all packed (after `git gc`) has no file below `refs/`, so a machine that receives
 * it would lack the folder, and git would not take the directory for a repository.
 *
 * @module
 */

import { join } from "node:path";
import { lstatIfPresent } from "../io/lstat_if_present.ts";

/**
 * Creates `refs/` and `objects/` in the git directory `gitDir` (absolute) when it has a HEAD
 * and lacks them.
 *
 * @example
 * ```ts
 * await ensureGitDirLayout("/home/me/Sync/proj/.git");
 * ```
 */
export async function ensureGitDirLayout(gitDir: string): Promise<void> {
  const head = lstatIfPresent(join(gitDir, "HEAD"));
  if (!head?.isFile) return;
  for (const folder of ["refs", "objects"]) {
    const path = join(gitDir, folder);
    const there = lstatIfPresent(path);
    // Something else in the way is the user's to look at; git will say what it misses.
    if (!there) await Deno.mkdir(path, { mode: 0o755 });
  }
}
