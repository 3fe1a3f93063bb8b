/**
 * Deadlines for tests that wait: a promise that never settles, or a condition that never comes
 * true, fails the test with a message instead of hanging it (Deno's tests have no timeout).
 *
 * @module
 */

/**
 * Awaits `promise`, or throws once `ms` have passed without it settling.
 *
 * @example
 * ```ts
 * await settlesWithin(placed.durable, 5_000, "the lane's pack to be stored");
 * ```
 */
export async function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once `condition()` is true, checking every 10 ms; throws once `ms` have passed,
 * naming `what` (a function: what it says then, e.g. with the output seen so far).
 *
 * @example
 * ```ts
 * await trueWithin(() => asked.size >= 2, 10_000, "two files to ask for their ranges");
 * ```
 */
export async function trueWithin(
  condition: () => boolean,
  ms: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`waited ${ms} ms for ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
