/**
 * The moments history is asked about, as people write them: an ISO 8601 time
 * (`2026-12-03T08:00:00Z`) or an age (`2h`, `30m`, `3d`, `1w`, `1d12h`) counted back from now.
 *
 * @module
 */

import { ExitCode, TcfsError } from "../errors.ts";
import { parseDuration } from "../config/duration_text.ts";

/** A date, optionally a time of day and a zone (without a zone: local time, as ISO 8601 says). */
const ISO_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * The moment `text` names: an ISO 8601 time, or an age counted back from `now`.
 *
 * @throws {TcfsError} kind `usage` naming `option` (e.g. `--at`) when `text` is neither.
 *
 * @example
 * ```ts
 * parsePointInTime("2026-12-03T08:00:00Z", "--at"); // 2026-12-03T08:00:00.000Z
 * parsePointInTime("2h", "--at"); // two hours ago
 * ```
 */
export function parsePointInTime(text: string, option: string, now: Date = new Date()): Date {
  const age = parseDuration(text);
  if (age !== undefined) return new Date(now.getTime() - age);
  const trimmed = text.trim();
  if (ISO_TIME.test(trimmed) && realDate(trimmed)) {
    // A bare date would be read as midnight UTC; ISO 8601 means the local midnight.
    const time = new Date(trimmed.length === 10 ? `${trimmed}T00:00` : trimmed);
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw new TcfsError(
    `${option} ${JSON.stringify(text)} is neither a time nor an age`,
    {
      kind: "usage",
      exitCode: ExitCode.usage,
      hint: "give an ISO 8601 time such as 2026-12-03T08:00:00Z (without a zone: local time), " +
        "or an age such as 30m, 2h, 3d or 1w",
    },
  );
}

/** Whether the date `text` starts with exists (Date would take February 30 for March 2). */
function realDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
