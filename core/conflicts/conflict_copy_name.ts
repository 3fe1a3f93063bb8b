/**
 * Names for the copies that keep a conflict's losing side:
 * `name.conflict-<author>-<yyyymmdd-hhmmss>.ext`, beside the original. The author and time
 * are the losing version's own (its `author_name` and `written_at`), never a local clock, so
 * every device that keeps the same losing version names its copy alike.
 *
 * @module
 */

import { fitName, NAME_MAX_BYTES, utf8Length } from "../paths/name_fit.ts";

/** What a conflict copy's name says. */
export interface ConflictCopyName {
  /** The path it is a copy of. */
  original: string;
  /** When the losing side was written, `yyyymmdd-hhmmss` (UTC): sorts oldest first. */
  stamp: string;
}

/** `.conflict-<author>-<stamp>[-<tag>]` just before the extension (if any) of a base name. */
const COPY_MARK = /\.conflict-[A-Za-z0-9._-]+?-(\d{8}-\d{6})(?:-[0-9a-f]{8})?(?=(\.[^.]*)?$)/;

/**
 * Builds the conflict-copy path for `rel`, for the losing side `author` wrote at `when`.
 * `tag` (8 hex digits of its content digest) tells two different sides apart that would
 * otherwise get one name.
 *
 * @example
 * ```ts
 * conflictCopyPath("docs/report.pdf", "yoga", new Date("2026-11-25T12:00:00Z"));
 * // "docs/report.conflict-yoga-20261125-120000.pdf"
 * ```
 */
export function conflictCopyPath(rel: string, author: string, when: Date, tag?: string): string {
  const slash = rel.lastIndexOf("/");
  const dir = rel.slice(0, slash + 1);
  const name = rel.slice(slash + 1);
  const iso = when.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
  const device = author.replace(/[^A-Za-z0-9._-]/g, "_");
  const mark = `.conflict-${device}-${stamp}${tag ? `-${tag}` : ""}`;
  const dot = name.lastIndexOf(".");
  // A leading dot is part of the name (.bashrc), not an extension; nor is a tail too long to keep.
  const [stem, ext] = dot > 0 && utf8Length(mark + name.slice(dot)) <= NAME_MAX_BYTES / 2
    ? [name.slice(0, dot), name.slice(dot)]
    : [name, ""];
  // A name near the limit keeps the start of its stem, so the copy can be written where it is.
  return dir + fitName(stem, mark + ext);
}

/**
 * Reads a conflict copy's name: what it is a copy of and when its side was written;
 * `undefined` for a path that is not a conflict copy.
 *
 * @example
 * ```ts
 * parseConflictCopy("docs/report.conflict-yoga-20261125-120000.pdf");
 * // { original: "docs/report.pdf", stamp: "20261125-120000" }
 * ```
 */
export function parseConflictCopy(rel: string): ConflictCopyName | undefined {
  const slash = rel.lastIndexOf("/");
  const name = rel.slice(slash + 1);
  const match = COPY_MARK.exec(name);
  if (!match || match.index === 0) return undefined;
  const original = rel.slice(0, slash + 1) + name.slice(0, match.index) +
    name.slice(match.index + match[0].length);
  return { original, stamp: match[1] };
}
