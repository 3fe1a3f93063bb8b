/**
 * Folds versions, one at a time and in any order, into what a path's readers need: its
 * heads (the versions no other version's clock dominates: one is the current state, several
 * are a conflict) and the content its deletion keeps (the newest file or link versions that
 * only a deletion supersedes, so a deleted path's last content stays reachable).
 *
 * The result depends only on the set of versions folded, not on their order: devices that
 * read the same journals in different orders agree.
 *
 * @module
 */

import type { StoredVersion } from "./stored_version.ts";
import { compareClocks } from "../vclock/vector_clock.ts";

/** A path's heads and the content its deletions keep. */
export interface FoldedPath {
  heads: StoredVersion[];
  kept: StoredVersion[];
}

/**
 * Folds `incoming` into `path`; returns the new state, or undefined when nothing changed
 * (a version already folded, or one a head dominates and no deletion keeps).
 *
 * @example
 * ```ts
 * let folded: FoldedPath = { heads: [], kept: [] };
 * folded = foldVersion(folded, v1) ?? folded;
 * folded = foldVersion(folded, v2) ?? folded; // v2's clock dominates v1's: heads = [v2]
 * ```
 */
export function foldVersion(path: FoldedPath, incoming: StoredVersion): FoldedPath | undefined {
  const known = (v: StoredVersion) => v.key === incoming.key;
  if (path.heads.some(known) || path.kept.some(known)) return undefined;
  if (path.heads.some((head) => covers(head, incoming))) {
    if (!isContent(incoming)) return undefined;
    const kept = keptContent(path.heads, [...path.kept, incoming]);
    return kept.includes(incoming) ? { heads: path.heads, kept } : undefined;
  }
  const superseded = path.heads.filter((head) => covers(incoming, head));
  const heads = [...path.heads.filter((head) => !superseded.includes(head)), incoming];
  return { heads, kept: keptContent(heads, [...path.kept, ...superseded.filter(isContent)]) };
}

/**
 * Whether `a` supersedes `b`: its clock dominates, or equals it with a smaller key (two
 * versions with one clock come only from a broken writer; the tie-break keeps readers agreed).
 */
export function covers(a: StoredVersion, b: StoredVersion): boolean {
  const order = compareClocks(a.version.vclock, b.version.vclock);
  return order === "after" || (order === "equal" && a.key < b.key);
}

function isContent(v: StoredVersion): boolean {
  return v.version.kind !== "deleted";
}

/** The newest content among `candidates` that no content head supersedes. */
function keptContent(heads: StoredVersion[], candidates: StoredVersion[]): StoredVersion[] {
  const live = candidates.filter((c) => !heads.some((h) => isContent(h) && covers(h, c)));
  return live.filter((c) => !live.some((other) => other !== c && covers(other, c)));
}
