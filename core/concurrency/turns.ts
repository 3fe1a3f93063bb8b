/**
 * Tasks that take turns: each starts once the one before it has settled, whether it succeeded
 * or failed.
 *
 * @module
 */

/** Runs `task` after every task given before it has settled; resolves or rejects as it does. */
export type Turns = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A fresh line of turns.
 *
 * @example
 * ```ts
 * const inTurn = createTurns();
 * await Promise.all([inTurn(() => write("a")), inTurn(() => write("b"))]); // a, then b
 * ```
 */
export function createTurns(): Turns {
  let last: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = last.then(task);
    last = run.catch(() => {});
    return run;
  };
}
