/**
 * History as `tcfs log` and `tcfs restore` report it, on the terminal, in `--json` and from the
 * control API alike: each version by its id, kind, size, digest, author and time, without its
 * chunk list (which can run to thousands of entries for a big file).
 *
 * @module
 */

import type { VersionKind } from "../remote/file_version.ts";
import { TcfsError } from "../errors.ts";
import { remoteDisplayPath, type SyncContext } from "../sync/sync_context.ts";
import type { PullSummary } from "../sync/transfer_summary.ts";
import { type HistoryEntry, pathHistory } from "./path_history.ts";
import type { RestoredPath } from "./history_restore.ts";

/** One version as history reports it. */
export interface LogEntry {
  /** What `tcfs restore --version` takes. */
  id: string;
  /** The version's full name. */
  key: string;
  kind: VersionKind;
  size: number;
  /** The content's digest ("" for a deletion or a link). */
  blake3: string;
  /** The device that wrote it: id and name. */
  author: string;
  author_name: string;
  written_at: string;
  /** A current head (several: a conflict). */
  head: boolean;
  /** One side of a conflict: written concurrently with another version of the path. */
  conflict: boolean;
}

/** `tcfs log`: a path's versions, newest first. */
export interface PathLog {
  /** Relative to the namespace. */
  path: string;
  /** `<bucket>/<namespace>/<path>`. */
  remote: string;
  entries: LogEntry[];
}

/** One path a restore brought back (or would, in a dry run). */
export interface RestoredItem {
  path: string;
  remote: string;
  /** The version whose content comes back. */
  from: LogEntry;
  /** `unchanged`: the current head already holds that content, so nothing was written. */
  action: "restore" | "unchanged";
  /** Where it was written, for a restore to a local target (`--to`). */
  local?: string;
  /** The id of the new version on top, for a restore on top. */
  new_version?: string;
}

/** `tcfs restore`: what came back, and how the local files were brought in line. */
export interface RestoreReport {
  /** Only said what would be restored; nothing was written. */
  dry_run: boolean;
  restored: RestoredItem[];
  /** The pull that brought the restored paths back to their place under the sync root. */
  pulled?: PullSummary;
  /** Where that pull wrote. */
  pulled_to?: string;
}

/**
 * The log of one path, after catching up with the store.
 *
 * @throws {TcfsError} kind `not_found` when history holds no version of it (a folder has none
 *   of its own).
 *
 * @example
 * ```ts
 * const { entries } = await pathLog(ctx, "docs/a.txt");
 * ```
 */
export async function pathLog(ctx: SyncContext, rel: string): Promise<PathLog> {
  const remote = remoteDisplayPath(ctx, rel);
  const { entries } = await pathHistory(ctx, rel);
  if (entries.length === 0) {
    throw new TcfsError(`history holds no version of ${remote}`, {
      kind: "not_found",
      hint: "`tcfs log` takes a file, not a folder; `tcfs ls --all` lists the paths, " +
        "`tcfs ls --deleted` the deleted ones",
    });
  }
  return { path: rel, remote, entries: entries.map(logEntry) };
}

/**
 * A history entry as reported.
 *
 * @example
 * ```ts
 * const reported = (await pathHistory(ctx, rel)).entries.map(logEntry);
 * ```
 */
export function logEntry(entry: HistoryEntry): LogEntry {
  const { kind, size, blake3, author, author_name, written_at } = entry.version;
  return {
    id: entry.id,
    key: entry.key,
    kind,
    size,
    blake3,
    author,
    author_name,
    written_at,
    head: entry.head,
    conflict: entry.conflict,
  };
}

/**
 * What `restoreHistory` returned, as reported.
 *
 * @example
 * ```ts
 * const restored = restoredItems(ctx, await restoreHistory(ctx, { rel: "docs/a.txt" }));
 * ```
 */
export function restoredItems(ctx: SyncContext, paths: readonly RestoredPath[]): RestoredItem[] {
  return paths.map(({ path, from, action, local, new_version }) => ({
    path,
    remote: remoteDisplayPath(ctx, path),
    from: logEntry(from),
    action,
    ...(local === undefined ? {} : { local }),
    ...(new_version === undefined ? {} : { new_version }),
  }));
}
