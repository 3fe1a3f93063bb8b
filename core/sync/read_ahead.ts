/**
 * Per-path reads of a pass that takes its paths in a known order, made a block of paths at a
 * time: one query answers the next {@linkcode READ_AHEAD_PATHS} paths, where a query per path
 * cost a statement, and SQLite's locks around it, per file.
 *
 * @module
 */

/** Paths a read ahead reads at once: its memory is bounded by this, not the pass. */
export const READ_AHEAD_PATHS = 256;

/**
 * A lookup of `read` for the paths of `order`, each asked for once, mostly in that order: a path
 * not read yet is read with the paths that follow it in `order`, and each answer is handed out
 * once. An answer is as fresh as the block it came with: for reads that nothing writes between a
 * block's read and its paths' turns (a pull's own writes to a path follow that path's plan).
 *
 * @example
 * ```ts
 * const trackedFor = readAhead(paths, (block) => state.getTrackedAmong("default", block));
 * const row = trackedFor(paths[0]);
 * ```
 */
export function readAhead<T>(
  order: readonly string[],
  read: (paths: string[]) => Map<string, T>,
): (path: string) => T | undefined {
  let block = new Map<string, T>();
  let blockPaths = new Set<string>();
  let next = 0;
  return (path) => {
    if (!blockPaths.has(path)) {
      // Asked in order, each block is found by scanning on from the last one; a path before it
      // (the pass began again: a pull's deletions go first, then the rest) is looked for from
      // the start, and one not in `order` is read alone.
      let at = order.indexOf(path, next);
      if (at < 0) at = order.indexOf(path);
      const paths = at < 0 ? [path] : order.slice(at, at + READ_AHEAD_PATHS);
      if (at >= 0) next = at + paths.length;
      block = read(paths);
      blockPaths = new Set(paths);
    }
    blockPaths.delete(path);
    const answer = block.get(path);
    block.delete(path);
    return answer;
  };
}
