/**
 * A broadcast wake-up for loops that sleep until something changes (an event
 * was queued, the connection came back, the bus is closing).
 *
 * @module
 */

/** Wakes every waiter at once; a wake with no waiter is not remembered. */
export interface WakeSignal {
  /** Resolves every pending {@linkcode WakeSignal.wait}. */
  wake(): void;
  /** Resolves on the next wake, or after `timeoutMs` when given. */
  wait(timeoutMs?: number): Promise<void>;
}

/**
 * Creates a wake signal.
 *
 * @example
 * ```ts
 * const changed = createWakeSignal();
 * setTimeout(() => changed.wake(), 10);
 * await changed.wait(1000); // returns after ~10 ms
 * ```
 */
export function createWakeSignal(): WakeSignal {
  let waiters: (() => void)[] = [];
  return {
    wake() {
      const woken = waiters;
      waiters = [];
      for (const resolve of woken) resolve();
    },
    wait(timeoutMs?: number) {
      return new Promise<void>((resolve) => {
        if (timeoutMs === undefined) {
          waiters.push(resolve);
          return;
        }
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          waiters = waiters.filter((waiter) => waiter !== done);
          resolve();
        }
        waiters.push(done);
      });
    },
  };
}
