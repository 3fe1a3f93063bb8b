/**
 * Exclude rules: globs matched against an entry's name and against its path
 * relative to the pushed folder (so both `*.swp` and `build/tmp` work). One machine's state
 * inside a git directory (its index, logs, locks: git_dir_path.ts) is always excluded.
 *
 * @module
 */

// @ts-types="@types/picomatch"
import picomatch from "picomatch";

import { ROOT_MARKER } from "./root_marker.ts";
import { isMachineGitPath } from "../git/git_dir_path.ts";

/** Names tcfs itself writes next to synced files and must never sync. */
const INTERNAL_PATTERNS = [".*.tcfs-tmp-*", ROOT_MARKER];

/**
 * Builds a predicate that says whether a relative path is excluded. `under` is the path of
 * the scanned folder in the namespace ("" for a root), so that a git directory's own files
 * are known as such in a scan of a folder below it.
 *
 * @example
 * ```ts
 * const excluded = createExcludeMatcher(["*.swp", ".direnv"]);
 * excluded("notes/.a.txt.swp"); // true
 * excluded("proj/.git/index"); // true
 * ```
 */
export function createExcludeMatcher(
  patterns: readonly string[],
  under = "",
): (rel: string) => boolean {
  // One expression for every glob, tested as picomatch's own matcher tests each (a non-empty
  // input equal to the glob, or matching its expression): the matchers one by one cost a
  // scan more than the rest of its work but the file system's.
  const expressions = [...INTERNAL_PATTERNS, ...patterns]
    .map((glob) => ({ glob, expression: picomatch.makeRe(glob, { dot: true }) }));
  const expression = new RegExp(expressions.map((e) => e.expression.source).join("|"));
  // Only globs their own expression does not match (`a[1]`) need the equality: few or none.
  const literal = new Set(
    expressions.filter((e) => !e.expression.test(e.glob)).map((e) => e.glob),
  );
  const matches = (input: string) =>
    input !== "" && ((literal.size > 0 && literal.has(input)) || expression.test(input));
  const prefix = under === "" ? "" : `${under}/`;
  return (rel) =>
    matches(rel.slice(rel.lastIndexOf("/") + 1)) || matches(rel) ||
    isMachineGitPath(prefix + rel);
}

/**
 * Like {@linkcode createExcludeMatcher}, but also true for a path below an excluded folder,
 * which a folder scan never reaches: for paths known from elsewhere (tracked rows, file events).
 *
 * @example
 * ```ts
 * const excluded = createPathExcluder([".direnv"]);
 * excluded(".direnv/cache/x"); // true
 * ```
 */
export function createPathExcluder(patterns: readonly string[]): (rel: string) => boolean {
  const excluded = createExcludeMatcher(patterns);
  return (rel) => {
    const segments = rel.split("/");
    return segments.some((_, i) => excluded(segments.slice(0, i + 1).join("/")));
  };
}
