/**
 * Watching a sync root for changes with `Deno.watchFs` (recursive; inotify on Linux, FSEvents
 * on macOS). Events become paths relative to the root; a rename also reports its old and new
 * path, so the sync loop can tell a moved file from a deleted one. When the OS runs out of
 * watches the watcher reports the failure once and stops, and the caller falls back to
 * periodic rescans.
 *
 * @module
 */

import { relative, sep } from "node:path";
import { leadsOutside } from "../../core/paths/leads_outside.ts";

/** Options for {@linkcode watchTree}. */
export interface TreeWatcherOptions {
  /** The absolute root. */
  root: string;
  /** Paths (relative to the root) that changed; `rename` is `[old, new]` for a move within it. */
  onChange(paths: string[], rename?: [string, string]): void;
  /** The OS dropped events (queue overflow): everything must be rescanned. */
  onRescan(): void;
  /** Watching failed and has stopped; nothing more is reported. */
  onFailure(err: Error): void;
  /** Starts the OS watcher; `Deno.watchFs` by default. */
  watch?: (root: string) => AsyncIterable<Deno.FsEvent> & { close(): void };
}

/** A running watcher. */
export interface TreeWatcher {
  close(): void;
}

/**
 * Starts watching `options.root`.
 *
 * @example
 * ```ts
 * const watcher = watchTree({
 *   root: "/home/me/Sync",
 *   onChange: (paths) => batcher.add(paths),
 *   onRescan: () => requestFullScan(),
 *   onFailure: (err) => fallBackToRescans(err),
 * });
 * watcher.close();
 * ```
 */
export function watchTree(options: TreeWatcherOptions): TreeWatcher {
  const watch = options.watch ?? ((root) => Deno.watchFs(root, { recursive: true }));
  let closed = false;
  let watcher: (AsyncIterable<Deno.FsEvent> & { close(): void }) | undefined;
  const fail = (err: unknown) => {
    if (closed) return;
    closed = true;
    try {
      watcher?.close();
    } catch {
      // Already closed by the failure itself.
    }
    options.onFailure(err instanceof Error ? err : new Error(String(err)));
  };
  try {
    watcher = watch(options.root);
  } catch (err) {
    queueMicrotask(() => fail(err));
    return { close: () => void (closed = true) };
  }
  (async () => {
    try {
      for await (const event of watcher) {
        if (event.flag === "rescan") options.onRescan();
        const rels = event.paths.map((path) => relativeInside(options.root, path));
        const inside = rels.filter((rel): rel is string => rel !== undefined);
        if (inside.length === 0 || event.kind === "other") continue;
        const [from, to] = rels;
        const rename = event.kind === "rename" && rels.length === 2 && from !== undefined &&
            to !== undefined
          ? [from, to] as [string, string]
          : undefined;
        options.onChange(inside, rename);
      }
    } catch (err) {
      fail(err);
    }
  })();
  return {
    close() {
      if (closed) return;
      closed = true;
      watcher?.close();
    },
  };
}

/** `path` relative to `root` with `/` separators, or `undefined` for the root or outside it. */
function relativeInside(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === "" || leadsOutside(rel)) return undefined;
  return rel.split(sep).join("/");
}
