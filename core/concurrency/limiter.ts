/**
 * A counting semaphore: bounds how many async tasks run at once, so transfers
 * keep the store busy without opening unbounded connections or buffers.
 *
 * @module
 */

/** Runs tasks with at most `limit` in flight. */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

/**
 * Creates a limiter.
 *
 * @example
 * ```ts
 * const limit = createLimiter(4);
 * await Promise.all(urls.map((u) => limit.run(() => fetch(u))));
 * ```
 */
export function createLimiter(limit: number): Limiter {
  let active = 0;
  // A queue read from `first` on: Array.shift moves every waiter each time, which made a pull
  // that queued one task per path quadratic in the paths.
  let waiting: (() => void)[] = [];
  let first = 0;
  const nextWaiter = () => {
    if (first === waiting.length) return undefined;
    const next = waiting[first++];
    if (first >= 1024 && first * 2 >= waiting.length) {
      waiting = waiting.slice(first);
      first = 0;
    }
    return next;
  };
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      // A finishing task hands its slot straight to the next waiter, so a
      // newcomer can never slip in between and exceed the limit.
      if (active < limit) active++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        const next = nextWaiter();
        if (next) next();
        else active--;
      }
    },
  };
}
