/**
 * The figures push and pull report (also the shape of `--json` output).
 *
 * @module
 */

/** A path that could not be synced, and why. */
export interface PathFailure {
  path: string;
  error: string;
}

/**
 * What a push would do to one path: `push --dry-run` lists these. `untrack_excluded` is a
 * tracked path an exclude pattern now filters out: forgotten on this device, never deleted
 * remotely.
 */
export type PushAction = "upload" | "delete" | "conflict" | "unchanged" | "untrack_excluded";

/** What a pull would do to one path: `pull --dry-run` lists these. */
export type PullAction = "restore" | "delete" | "conflict" | "unchanged" | "kept_modified";

/** One path of a dry run (`bucket/namespace/rel`) and what the real run would do to it. */
export interface PlannedPath<A extends string = PushAction | PullAction> {
  path: string;
  action: A;
}

/** What a push did. */
export interface PushSummary {
  files: number;
  deleted: number;
  unchanged: number;
  chunks_total: number;
  chunks_uploaded: number;
  bytes_total: number;
  bytes_uploaded: number;
  /** Remote paths (`bucket/namespace/rel`) that were not pushed because of a conflict. */
  conflicts: string[];
  /** Conflicts resolved on the spot (conflict_mode = auto): `bucket/namespace/rel`. */
  auto_resolved: string[];
  /** Paths whose remote deletion this push overrode (the modification wins). */
  resurrected: string[];
  failures: PathFailure[];
  /** The store was emptied or replaced since this device last synced; every file was compared afresh. */
  store_replaced: boolean;
  /** Tracked paths an exclude pattern now filters out: forgotten here, left alone remotely. */
  untracked: number;
  /** Only in a dry run (nothing was written): what would happen, path by path, sorted. */
  planned?: PlannedPath<PushAction>[];
}

/** What a pull did. */
export interface PullSummary {
  files: number;
  deleted: number;
  unchanged: number;
  chunks_total: number;
  chunks_downloaded: number;
  bytes_total: number;
  bytes_downloaded: number;
  conflicts: string[];
  /** Conflicts resolved on the spot (conflict_mode = auto). */
  auto_resolved: string[];
  /** Paths deleted remotely but modified here: the modification was kept. */
  kept_modified: string[];
  /** The store was emptied or replaced since this device last synced; every file was compared afresh. */
  store_replaced: boolean;
  failures: PathFailure[];
  /**
   * Only in a dry run, where nothing is written and the counts above stay zero: each path
   * (`bucket/namespace/rel`) and what the pull would do to it. Paths it could not plan are in
   * `failures`.
   */
  planned?: PlannedPath<PullAction>[];
}

/**
 * A push summary with nothing counted yet.
 *
 * @example
 * ```ts
 * const summary = emptyPushSummary();
 * ```
 */
export function emptyPushSummary(): PushSummary {
  return {
    files: 0,
    deleted: 0,
    unchanged: 0,
    chunks_total: 0,
    chunks_uploaded: 0,
    bytes_total: 0,
    bytes_uploaded: 0,
    conflicts: [],
    auto_resolved: [],
    resurrected: [],
    failures: [],
    store_replaced: false,
    untracked: 0,
  };
}

/**
 * A pull summary with nothing counted yet.
 *
 * @example
 * ```ts
 * const summary = emptyPullSummary();
 * ```
 */
export function emptyPullSummary(): PullSummary {
  return {
    files: 0,
    deleted: 0,
    unchanged: 0,
    chunks_total: 0,
    chunks_downloaded: 0,
    bytes_total: 0,
    bytes_downloaded: 0,
    conflicts: [],
    auto_resolved: [],
    kept_modified: [],
    failures: [],
    store_replaced: false,
  };
}
