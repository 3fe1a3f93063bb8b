/**
 * Runs of one operation per key (a folder's fsync, a filesystem's flush) shared by every caller
 * whose change comes before the run starts.
 *
 * @module
 */

/** Runs `run` for a key, or joins the one about to start. */
export type CoalescedRuns = (key: string, run: () => Promise<void>) => Promise<void>;

/**
 * Coalesces runs per key: callers that come while a run waits to start share it (it starts after
 * each of their changes, so it covers them all); a caller that comes while a run is under way,
 * which may have begun before its change, gets the next one. Many files restored into one folder
 * then cost one fsync of it, not one each.
 *
 * @example
 * ```ts
 * const syncs = coalescedRuns();
 * await Deno.rename(temp, target);
 * await syncs(dir, () => fsyncFolder(dir));
 * ```
 */
export function coalescedRuns(): CoalescedRuns {
  /** The run of each key that has not started yet; joining it covers a change made now. */
  const waiting = new Map<string, Promise<void>>();
  /** The run of each key under way, which may have begun before a caller's change. */
  const running = new Map<string, Promise<void>>();
  return (key, run) => {
    const queued = waiting.get(key);
    if (queued) return queued;
    const before = running.get(key) ?? Promise.resolve();
    const next = before.catch(() => {}).then(async () => {
      waiting.delete(key);
      running.set(key, next);
      try {
        await run();
      } finally {
        if (running.get(key) === next) running.delete(key);
      }
    });
    waiting.set(key, next);
    return next;
  };
}
