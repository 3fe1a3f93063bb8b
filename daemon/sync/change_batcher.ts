/**
 * Debouncing local changes: paths collect until the tree has been quiet for `debounceMs`, so an
 * editor's burst of writes, or a save by temp file and rename, becomes one push. A tree that is
 * never quiet is still pushed, at the latest {@linkcode maxBatchDelayMs} after its first change.
 *
 * @module
 */

/** Changed paths (relative to the root) and the renames seen among them. */
export interface ChangeBatch {
  paths: string[];
  /** `[old, new]` pairs, in the order they happened. */
  renames: [string, string][];
}

/** Collects changes and says when they may be taken. */
export interface ChangeBatcher {
  /** Records changed paths, and a rename when the change was one. */
  add(paths: readonly string[], rename?: [string, string]): void;
  /** How many distinct paths are waiting. */
  size(): number;
  /** When the batch may be taken (ms since the epoch), or `undefined` when empty. */
  readyAt(): number | undefined;
  /** Empties the batcher and returns what it held. */
  take(): ChangeBatch;
}

/**
 * The longest a change waits for the tree to settle.
 *
 * @example
 * ```ts
 * maxBatchDelayMs(300); // 3000
 * ```
 */
export function maxBatchDelayMs(debounceMs: number): number {
  return Math.max(2_000, 10 * debounceMs);
}

/**
 * Creates an empty batcher. `debounceMs` is read on every call, so a reload applies at once.
 *
 * @example
 * ```ts
 * const batcher = createChangeBatcher(() => 300);
 * batcher.add(["notes.txt"]);
 * if (Date.now() >= batcher.readyAt()!) push(batcher.take().paths);
 * ```
 */
export function createChangeBatcher(
  debounceMs: () => number,
  now: () => number = Date.now,
): ChangeBatcher {
  let paths = new Set<string>();
  let renames: [string, string][] = [];
  let firstAt = 0;
  let lastAt = 0;
  return {
    add(changed, rename) {
      if (changed.length === 0) return;
      const time = now();
      if (paths.size === 0) firstAt = time;
      lastAt = time;
      for (const path of changed) paths.add(path);
      if (rename) renames.push(rename);
    },
    size: () => paths.size,
    readyAt() {
      if (paths.size === 0) return undefined;
      const wait = debounceMs();
      return Math.min(lastAt + wait, firstAt + maxBatchDelayMs(wait));
    },
    take() {
      const batch = { paths: [...paths], renames };
      paths = new Set();
      renames = [];
      return batch;
    },
  };
}
