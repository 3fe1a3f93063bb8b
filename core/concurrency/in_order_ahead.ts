/**
 * Work started ahead of its consumer and taken in order: while the caller handles one item's
 * result, the next few are already being fetched. A catch-up folds a device's journal segments
 * one after another, each in its own transaction, and the fetch and decoding of the next
 * segment would otherwise wait for the fold of the one before.
 *
 * @module
 */

/**
 * Yields `work(item)` for each of `items` in their order, with up to `ahead` items' work
 * started beyond the one yielded. A failure is thrown where its item comes; work started
 * beyond an item the caller stopped at is left to finish, its failure unheard.
 *
 * @example
 * ```ts
 * for await (const segment of inOrderAhead(seqs, 4, (seq) => readSegment(seq))) {
 *   fold(segment);
 * }
 * ```
 */
export async function* inOrderAhead<T, R>(
  items: Iterable<T>,
  ahead: number,
  work: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const pending = items[Symbol.iterator]();
  const started: Promise<R>[] = [];
  const startNext = () => {
    const next = pending.next();
    if (next.done) return false;
    const result = work(next.value);
    // Awaited in its turn, or never if the caller stops first: not an unhandled rejection.
    result.catch(() => {});
    started.push(result);
    return true;
  };
  while (started.length <= ahead && startNext());
  while (started.length > 0) {
    const result = await started.shift()!;
    startNext();
    yield result;
  }
}
