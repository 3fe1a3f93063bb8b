/**
 * Lengths of time as people type them on a command line: `90s`, `30m`, `1h`, `2d`, `1w`, parts
 * added up (`1h30m`), and `0`. One grammar for every option that takes a duration or an age.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Units from the largest down, as {@linkcode formatDuration} writes them. */
const UNITS_DOWN = ["w", "d", "h", "m", "s"];

/** One or more `<count><unit>` parts, in any order (`1d12h`), or a bare `0`. */
const DURATION = /^(?:0|(?:\d+[smhdw])+)$/;

/**
 * The length `text` names, in milliseconds; undefined when it is not a duration (a number
 * without a unit, other than `0`, is not: `30` could mean seconds or minutes).
 *
 * @example
 * ```ts
 * parseDuration("90m"); // 5_400_000
 * parseDuration("1h30m"); // 5_400_000
 * parseDuration("0"); // 0
 * parseDuration("30"); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (!DURATION.test(trimmed)) return undefined;
  let total = 0;
  for (const [, count, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) {
    total += Number(count) * UNIT_MS[unit];
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * Writes `ms` the way {@linkcode parseDuration} reads it, whole seconds and up, largest unit
 * first: `15m`, `1h30m`, `0`.
 *
 * @example
 * ```ts
 * formatDuration(5_400_000); // "1h30m"
 * formatDuration(0); // "0"
 * ```
 */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000);
  if (seconds <= 0) return "0";
  let text = "";
  for (const unit of UNITS_DOWN) {
    const size = UNIT_MS[unit] / 1000;
    const count = Math.floor(seconds / size);
    if (count > 0) text += `${count}${unit}`;
    seconds -= count * size;
  }
  return text;
}
