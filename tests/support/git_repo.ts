/**
 * Running git in tests: a fixed author and committer, no system or user config.
 *
 * @module
 */

import { join } from "node:path";

/** The environment every test's git runs with. */
export const GIT_ENV: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.org",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.org",
};

/** How long a git command meeting another's lock is tried again, as a user would. */
const LOCK_RETRY_MS = 5_000;

/**
 * Runs `git <args>` in `dir` and returns its stdout; throws with its stderr when it fails. A
 * command that meets another git process's lock (`index.lock`: a daemon refreshing the index
 * after a pull takes it for a moment, as an editor's git integration does) is run again for
 * up to {@linkcode LOCK_RETRY_MS}; a lock left behind still fails it.
 *
 * @example
 * ```ts
 * const head = (await git(repo, "rev-parse", "HEAD")).trim();
 * ```
 */
export async function git(dir: string, ...args: string[]): Promise<string> {
  const text = new TextDecoder();
  const deadline = Date.now() + LOCK_RETRY_MS;
  for (;;) {
    const out = await new Deno.Command("git", { args, cwd: dir, env: GIT_ENV, stdin: "null" })
      .output();
    if (out.code === 0) return text.decode(out.stdout);
    const stderr = text.decode(out.stderr);
    if (!/\.lock': File exists/.test(stderr) || Date.now() > deadline) {
      throw new Error(`git ${args.join(" ")} in ${dir}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Every file below `dir`, relative to it, sorted.
 *
 * @example
 * ```ts
 * const copies = (await filesBelow(join(repo, ".git"))).filter((f) => f.includes(".conflict-"));
 * ```
 */
export async function filesBelow(dir: string, base = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, base))) {
    const rel = base === "" ? entry.name : `${base}/${entry.name}`;
    if (entry.isDirectory) found.push(...await filesBelow(dir, rel));
    else found.push(rel);
  }
  return found.sort();
}
