/**
 * Exclude rules: globs matched against an entry's name and against its path
 * relative to the pushed folder (so both `*.swp` and `build/tmp` work).
 *
 * @module
 */

// @ts-types="@types/picomatch"
import picomatch from "picomatch";

/** Names tcfs itself writes next to synced files and must never sync. */
const INTERNAL_PATTERNS = [".*.tcfs-tmp-*"];

/**
 * Builds a predicate that says whether a relative path is excluded.
 *
 * @example
 * ```ts
 * const excluded = createExcludeMatcher(["*.swp", ".direnv"]);
 * excluded("notes/.a.txt.swp"); // true
 * ```
 */
export function createExcludeMatcher(patterns: readonly string[]): (rel: string) => boolean {
  const matchers = [...INTERNAL_PATTERNS, ...patterns].map((p) => picomatch(p, { dot: true }));
  return (rel) => {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    return matchers.some((match) => match(name) || match(rel));
  };
}
