/**
 * Relative paths as they travel in versions and events. Everything that comes
 * from the remote is hostile until this module has checked it.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";

const MAX_PATH_BYTES = 4096;
const MAX_SEGMENT_BYTES = 255;

/**
 * Returns why `rel` is not a safe relative path, or undefined when it is.
 * Safe means: `/`-separated, no empty, `.` or `..` segments, not absolute,
 * no backslashes or NUL, within length limits.
 *
 * @example
 * ```ts
 * unsafePathReason("a/b.txt"); // undefined
 * unsafePathReason("../x"); // "contains '..'"
 * ```
 */
export function unsafePathReason(rel: string): string | undefined {
  if (rel.length === 0) return "is empty";
  if (rel.startsWith("/")) return "is absolute";
  if (/^[A-Za-z]:/.test(rel)) return "has a drive letter";
  if (rel.includes("\\")) return "contains a backslash";
  if (rel.includes("\0")) return "contains a NUL byte";
  if (new TextEncoder().encode(rel).length > MAX_PATH_BYTES) return "is too long";
  for (const segment of rel.split("/")) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return `contains '${segment}'`;
    if (new TextEncoder().encode(segment).length > MAX_SEGMENT_BYTES) {
      return "has a segment longer than 255 bytes";
    }
  }
  return undefined;
}

/**
 * Throws a TcfsError when `rel` is not a safe relative path.
 *
 * @example
 * ```ts
 * assertSafeRelPath("docs/a.txt", "version ns/default/v/…");
 * ```
 */
export function assertSafeRelPath(rel: string, origin: string): string {
  const reason = unsafePathReason(rel);
  if (reason) {
    throw new TcfsError(`refusing path ${JSON.stringify(rel)} from ${origin}: it ${reason}`, {
      kind: "unsafe_path",
      hint: "a remote version tried to name a file outside the sync root; nothing was written",
    });
  }
  return rel;
}

/**
 * Throws a TcfsError when a local file's path `rel` could not travel: every reader refuses a
 * version whose path {@linkcode unsafePathReason} rejects (a backslash is legal in a Linux or
 * macOS name, but not in a path from the remote), and one such version would make the journal
 * object that holds it, and so every path pushed with it, unreadable to the other devices.
 *
 * @example
 * ```ts
 * assertPushablePath("docs/a\\b.txt"); // throws: it contains a backslash
 * ```
 */
export function assertPushablePath(rel: string): void {
  const reason = unsafePathReason(rel);
  if (reason) {
    throw new TcfsError(`cannot sync ${JSON.stringify(rel)}: its path ${reason}`, {
      kind: "unsafe_path",
      hint:
        "rename it: other devices refuse such a path from the remote; nothing was pushed for it",
    });
  }
}

/**
 * Joins relative path pieces with `/`, skipping empty ones.
 *
 * @example
 * ```ts
 * joinRel("docs", "", "a.txt"); // "docs/a.txt"
 * ```
 */
export function joinRel(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

/**
 * True when `rel` is `prefix` itself or lies below it ("" is the root).
 *
 * @example
 * ```ts
 * isUnderRel("docs/a.txt", "docs"); // true
 * isUnderRel("docs2/a.txt", "docs"); // false
 * ```
 */
export function isUnderRel(rel: string, prefix: string): boolean {
  return prefix === "" || rel === prefix || rel.startsWith(prefix + "/");
}
