/**
 * Versions as readers hand them around: each with the key that names it, and grouped by path
 * into heads.
 *
 * @module
 */

import type { FileVersion } from "../remote/file_version.ts";
import type { TcfsError } from "../errors.ts";

/**
 * A version together with its key: `ns/<namespace>/v/<path-digest>/<author>-<n>.json`, where
 * `n` is the author's counter in the version's clock. Versions from before the journal were
 * objects under that key; journal versions keep the same name, so records that name a
 * version (a tracked path's base, a conflict's sides) mean the same in both.
 */
export interface StoredVersion {
  key: string;
  version: FileVersion;
}

/** The heads of one path, and the content its deletion keeps (`head_fold.ts`). */
export interface PathHeads {
  path: string;
  heads: StoredVersion[];
  kept: StoredVersion[];
}

/** What reading a namespace produced: heads by path, and objects that could not be read. */
export interface NamespaceHeads {
  byPath: Map<string, PathHeads>;
  unreadable: TcfsError[];
}
