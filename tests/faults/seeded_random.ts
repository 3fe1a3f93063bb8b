/**
 * A small seeded generator for the fault suite's random schedules, so a
 * failing seed replays exactly.
 *
 * @module
 */

/**
 * Returns a function giving numbers in [0, 1) from `seed` (mulberry32).
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const step = Math.floor(random() * 10);
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
