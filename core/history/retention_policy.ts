/**
 * Which versions of a path the history keeps: the `[history]` retention rules as a pure
 * function of the path's versions and the current time, shared by `tcfs gc` (what to prune) and
 * anything that must predict it.
 *
 * @module
 */

import type { HistoryConfig } from "../config/config_schema.ts";

/** The rules that keep a version that is no longer a head; any one of them keeps it. */
export interface RetentionPolicy {
  /** Versions written less than this many days ago are kept; 0 keeps none by age. */
  keepDays: number;
  /** The path's newest this many versions are kept, heads and deletions counted. */
  keepLast: number;
  /** The newest version of each hour (first day), UTC day (first 30 days) and ISO week is kept. */
  staggered: boolean;
}

/** A version as the policy sees it: `HistoryEntry` from the path's history fits as it is. */
export interface RetentionCandidate {
  /** The version's key: it breaks ties between versions written at the same instant. */
  key: string;
  /** Whether it is a current head of its path (heads are always kept). */
  head: boolean;
  /** Only its ISO 8601 `written_at` matters. */
  version: { written_at: string };
}

/**
 * The policy that keeps every version: what `tcfs store encrypt` and `tcfs store rekey` apply
 * when they write a namespace's floor anew, sealed.
 */
export const KEEP_EVERY_VERSION: RetentionPolicy = {
  keepDays: 0,
  keepLast: Number.MAX_SAFE_INTEGER,
  staggered: false,
};

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
/** Days counted as "recent" by the staggered rule's daily buckets. */
const DAILY_FOR_DAYS = 30;
/** 1970-01-01 was a Thursday: ISO weeks start on the Monday 4 days later (UTC). */
const FIRST_MONDAY_MS = 4 * DAY_MS;

/**
 * The retention rules of a `[history]` config section.
 *
 * @example
 * ```ts
 * retentionPolicy(config.history); // { keepDays: 30, keepLast: 10, staggered: false }
 * ```
 */
export function retentionPolicy(config: HistoryConfig): RetentionPolicy {
  return { keepDays: config.keepDays, keepLast: config.keepLast, staggered: config.staggered };
}

/**
 * The versions of ONE path that the policy keeps at `now`: every head; the newest
 * `keepLast` versions (by `written_at`, a tie going to the greater key); those written less than
 * `keepDays` days before `now`; and with `staggered`, the newest version of each bucket: hourly
 * for versions under a day old, UTC days under 30 days, ISO weeks (UTC) after. A bucket holds
 * only the versions of its own tier, so where an hour, day or week straddles a tier boundary each part
 * keeps its newest. A version dated in the future (a skewed clock) is as young as one written
 * now, never older, and one whose `written_at` is not a date counts as written now.
 *
 * @param versions Every version of the path: heads and superseded ones, in any order.
 * @returns The kept versions (the same objects).
 *
 * @example
 * ```ts
 * const history = await pathHistory(ctx, "notes.md");
 * const kept = retainedVersions(history, retentionPolicy(config.history), new Date());
 * const prunable = history.filter((entry) => !kept.has(entry));
 * ```
 */
export function retainedVersions<T extends RetentionCandidate>(
  versions: readonly T[],
  policy: RetentionPolicy,
  now: Date,
): Set<T> {
  const nowMs = now.getTime();
  const newestFirst = versions.map((candidate) => {
    const written = Date.parse(candidate.version.written_at);
    const writtenMs = Number.isNaN(written) ? nowMs : written;
    return { candidate, writtenMs, ageMs: Math.max(0, nowMs - writtenMs) };
  }).sort((a, b) => b.writtenMs - a.writtenMs || descending(a.candidate.key, b.candidate.key));
  const bucketNewest = policy.staggered ? newestOfEachBucket(newestFirst) : new Set<T>();
  return new Set(
    newestFirst.filter(({ candidate, ageMs }, rank) =>
      candidate.head || rank < policy.keepLast || ageMs < policy.keepDays * DAY_MS ||
      bucketNewest.has(candidate)
    ).map(({ candidate }) => candidate),
  );
}

function descending(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/** The first of each staggered bucket's versions, given newest first. */
function newestOfEachBucket<T>(
  newestFirst: readonly { candidate: T; writtenMs: number; ageMs: number }[],
): Set<T> {
  const buckets = new Map<string, T>();
  for (const { candidate, writtenMs, ageMs } of newestFirst) {
    const bucket = staggeredBucket(writtenMs, ageMs);
    if (!buckets.has(bucket)) buckets.set(bucket, candidate);
  }
  return new Set(buckets.values());
}

/** The staggered bucket a version falls in, named by its tier and period. */
function staggeredBucket(writtenMs: number, ageMs: number): string {
  if (ageMs < DAY_MS) return `hour ${Math.floor(writtenMs / HOUR_MS)}`;
  if (ageMs < DAILY_FOR_DAYS * DAY_MS) return `day ${Math.floor(writtenMs / DAY_MS)}`;
  return `week ${Math.floor((writtenMs - FIRST_MONDAY_MS) / WEEK_MS)}`;
}
