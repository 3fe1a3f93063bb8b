/**
 * Vector clocks: how tcfs tells "this version has seen that one" from
 * "these two were written concurrently", without trusting wall clocks.
 *
 * @module
 */

/** Device id → counter. A missing device counts as 0. */
export type VectorClock = Readonly<Record<string, number>>;

/** How clock `a` relates to clock `b`. */
export type ClockOrder = "equal" | "before" | "after" | "concurrent";

/**
 * Compares two clocks over the union of their devices.
 *
 * @example
 * ```ts
 * compareClocks({ a: 1 }, { a: 2 }); // "before"
 * compareClocks({ a: 1 }, { b: 1 }); // "concurrent"
 * ```
 */
export function compareClocks(a: VectorClock, b: VectorClock): ClockOrder {
  let less = false;
  let greater = false;
  for (const device of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[device] ?? 0;
    const y = b[device] ?? 0;
    if (x < y) less = true;
    if (x > y) greater = true;
  }
  if (less && greater) return "concurrent";
  if (less) return "before";
  if (greater) return "after";
  return "equal";
}

/**
 * True when `a` has seen everything `b` has (a ≥ b pointwise).
 *
 * @example
 * ```ts
 * dominates({ a: 2, b: 1 }, { a: 1 }); // true
 * ```
 */
export function dominates(a: VectorClock, b: VectorClock): boolean {
  const order = compareClocks(a, b);
  return order === "after" || order === "equal";
}

/**
 * Pointwise maximum: the clock of someone who has seen both.
 *
 * @example
 * ```ts
 * mergeClocks({ a: 2 }, { a: 1, b: 3 }); // { a: 2, b: 3 }
 * ```
 */
export function mergeClocks(...clocks: VectorClock[]): VectorClock {
  const merged: Record<string, number> = {};
  for (const clock of clocks) {
    for (const [device, counter] of Object.entries(clock)) {
      merged[device] = Math.max(merged[device] ?? 0, counter);
    }
  }
  return sortedClock(merged);
}

/**
 * Advances `device`'s counter by one.
 *
 * @example
 * ```ts
 * tickClock({ a: 1 }, "b"); // { a: 1, b: 1 }
 * ```
 */
export function tickClock(clock: VectorClock, device: string): VectorClock {
  return sortedClock({ ...clock, [device]: (clock[device] ?? 0) + 1 });
}

/**
 * Checks that untrusted JSON is a clock: an object of non-negative safe integers.
 *
 * @example
 * ```ts
 * isVectorClock({ a: 1 }); // true
 * isVectorClock({ a: -1 }); // false
 * ```
 */
export function isVectorClock(value: unknown): value is VectorClock {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((n) => Number.isSafeInteger(n) && n >= 0);
}

/** Keys sorted, so equal clocks serialize to equal JSON. */
function sortedClock(clock: Record<string, number>): VectorClock {
  return Object.fromEntries(Object.entries(clock).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
