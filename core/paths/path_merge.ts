/**
 * Merges sources that each list paths in path order (`path_order.ts`) into one pass: for each
 * path, what every source has for it. A pass over a whole tree holds one item per source at a
 * time, whatever the tree's size.
 *
 * @module
 */

import { BUG_HINT, TcfsError } from "../errors.ts";
import { comparePaths } from "./path_order.ts";

/** Items in path order, and how to read an item's path. */
export interface PathSource<T> {
  items: Iterable<T> | AsyncIterable<T>;
  path: (item: T) => string;
}

/** One path, with the item of every source that has it. */
export type MergedPath<S> = { path: string } & { [K in keyof S]?: S[K] };

/**
 * Yields every path that any source lists, in path order, with each source's item for it.
 * A source out of order (or listing a path twice) is a bug that would make the pass take a
 * path for missing from it: it stops the pass.
 *
 * @example
 * ```ts
 * const merged = mergeByPath({
 *   local: { items: scanFolder(root, excluded), path: (e) => e.rel },
 *   tracked: { items: state.trackedStats(ns), path: (t) => t.path },
 * });
 * for await (const { path, local, tracked } of merged) if (!local) console.log(path, "is gone");
 * ```
 */
export async function* mergeByPath<S extends Record<string, unknown>>(
  sources: { [K in keyof S]: PathSource<S[K]> },
): AsyncGenerator<MergedPath<S>> {
  const cursors = Object.entries(sources).map(([name, source]) => {
    const { items, path } = source as PathSource<unknown>;
    const sync = !(Symbol.asyncIterator in items);
    const iterator = sync
      ? (items as Iterable<unknown>)[Symbol.iterator]()
      : (items as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    return {
      name,
      path,
      sync,
      iterator,
      item: undefined as unknown,
      at: undefined as string | undefined,
    };
  });
  type Cursor = (typeof cursors)[number];
  const take = (cursor: Cursor, next: IteratorResult<unknown>) => {
    if (next.done) {
      cursor.at = undefined;
      return;
    }
    const at = cursor.path(next.value);
    if (cursor.at !== undefined && comparePaths(cursor.at, at) >= 0) {
      throw new TcfsError(`${cursor.name} lists "${at}" after "${cursor.at}": not in path order`, {
        kind: "internal",
        hint: BUG_HINT,
      });
    }
    cursor.item = next.value;
    cursor.at = at;
  };
  try {
    // A source read synchronously is awaited not once per item: that would cost a turn each.
    const next = (cursor: Cursor) => (cursor.iterator as Iterator<unknown>).next();
    for (const cursor of cursors) take(cursor, cursor.sync ? next(cursor) : await next(cursor));
    while (true) {
      let least: string | undefined;
      for (const { at } of cursors) {
        if (at !== undefined && (least === undefined || comparePaths(at, least) < 0)) least = at;
      }
      if (least === undefined) return;
      const merged: Record<string, unknown> = { path: least };
      for (const cursor of cursors) {
        if (cursor.at !== least) continue;
        merged[cursor.name] = cursor.item;
        take(cursor, cursor.sync ? next(cursor) : await next(cursor));
      }
      yield merged as MergedPath<S>;
    }
  } finally {
    // A pass that stops early lets its sources go (a database read among them).
    for (const { iterator } of cursors) await iterator.return?.();
  }
}
