/**
 * How long to wait between attempts to reach NATS while it is down.
 *
 * @module
 */

/** The shortest wait between two connection attempts. */
export const MIN_BACKOFF_MS = 250;

/** The default cap on the wait between two connection attempts. */
export const DEFAULT_MAX_BACKOFF_MS = 10_000;

/**
 * The wait before the next attempt, from how long the outage has lasted so far: half of it,
 * so successive waits grow about 1.5× each, between {@linkcode MIN_BACKOFF_MS} and `capMs`.
 * Depending only on the outage's age (not on a count of attempts) keeps it right however
 * often it is asked, which nats.js's `reconnectDelayHandler` does. A ±20 % jitter keeps a
 * fleet from reconnecting in lockstep.
 *
 * @example
 * ```ts
 * backoffDelayMs(0, 10_000);      // ~250
 * backoffDelayMs(8_000, 10_000);  // ~4000
 * backoffDelayMs(60_000, 10_000); // at most 10000
 * ```
 */
export function backoffDelayMs(outageMs: number, capMs: number): number {
  const jitter = 0.8 + Math.random() * 0.4;
  const wait = Math.max(MIN_BACKOFF_MS, outageMs / 2) * jitter;
  return Math.round(Math.min(capMs, wait));
}
