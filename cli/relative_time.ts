/**
 * Times as people read them in tables: "3 hours ago".
 *
 * @module
 */

const UNITS: [limitSeconds: number, seconds: number, unit: string][] = [
  [3600, 60, "minute"],
  [86400, 3600, "hour"],
  [86400 * 60, 86400, "day"],
  [Infinity, 86400 * 30, "month"],
];

/**
 * Describes how long ago `iso` was, relative to `now`. Times in the future (clock skew between
 * devices) read as "just now".
 *
 * @example
 * ```ts
 * formatTimeAgo("2026-11-25T12:00:00Z", new Date("2026-11-25T12:05:00Z")); // "5 minutes ago"
 * ```
 */
export function formatTimeAgo(iso: string, now: Date = new Date()): string {
  const seconds = (now.getTime() - Date.parse(iso)) / 1000;
  if (Number.isNaN(seconds)) return "unknown";
  if (seconds < 60) return "just now";
  const [, size, unit] = UNITS.find(([limit]) => seconds < limit)!;
  const count = Math.floor(seconds / size);
  return `${count} ${unit}${count === 1 ? "" : "s"} ago`;
}
