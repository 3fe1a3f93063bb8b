/**
 * Whether a path relative to a folder (as `node:path`'s `relative` gives it) leaves the folder.
 * A name that merely starts with two dots (`..notes`) is inside: testing `startsWith("..")`
 * took such files for outside the sync root, and the watcher ignored them.
 *
 * @module
 */

import { isAbsolute, sep } from "node:path";

/**
 * True when `rel` leads out of the folder it is relative to (or is absolute: another drive).
 *
 * @example
 * ```ts
 * leadsOutside(relative("/home/me/Sync", "/home/me/Sync/..notes")); // false
 * leadsOutside(relative("/home/me/Sync", "/home/me/other")); // true
 * ```
 */
export function leadsOutside(rel: string): boolean {
  return rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}
