/**
 * Progress of a push or pull asked for through the control API, as `progress` lines on the
 * activity feed, so that the CLI that asked can draw its progress bar while the daemon does
 * the work.
 *
 * @module
 */

import type { TransferProgress } from "../core/sync/sync_context.ts";
import type { ActivityFeed } from "./activity_feed.ts";

/** At most this many lines a second per transfer: enough for a bar that redraws ten times. */
const LINES_PER_SECOND = 4;

/** Feeds one transfer's progress to the feed. */
export interface ProgressPublisher {
  /** For the transfer's `onProgress`; `undefined` when the request gave no name. */
  onProgress?: (progress: TransferProgress) => void;
  /** Publishes the last progress seen, if it has not gone out yet. */
  finish(): void;
}

/**
 * A publisher for the transfer named `transfer`; without a name, nothing is published.
 *
 * @example
 * ```ts
 * const progress = progressPublisher(host.feed, body.transfer, "push");
 * try { await push(ctx, { ...request, onProgress: progress.onProgress }); } finally { progress.finish(); }
 * ```
 */
export function progressPublisher(
  feed: ActivityFeed,
  transfer: string | undefined,
  operation: "push" | "pull",
): ProgressPublisher {
  if (transfer === undefined) return { finish() {} };
  let lastSent = 0;
  let unsent: TransferProgress | undefined;
  const send = (p: TransferProgress) => {
    lastSent = Date.now();
    unsent = undefined;
    feed.publish({
      kind: "progress",
      at: new Date(lastSent).toISOString(),
      transfer,
      operation,
      files_done: p.filesDone,
      files_total: p.filesTotal,
      bytes_done: p.bytesDone,
      bytes_total: p.bytesTotal,
    });
  };
  return {
    onProgress(progress) {
      if (Date.now() - lastSent >= 1000 / LINES_PER_SECOND) send(progress);
      // The transfer keeps mutating the object it reports: keep a copy.
      else unsent = { ...progress };
    },
    finish() {
      if (unsent) send(unsent);
    },
  };
}
