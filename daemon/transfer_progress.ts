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

/**
 * Runs a transfer, handing `run` the `onProgress` that publishes its progress as
 * the transfer named `transfer`; without a name, `run` gets none and nothing is
 * published. The last progress seen goes out when the transfer ends, however it ends.
 *
 * @example
 * ```ts
 * const summary = await withPublishedProgress(host.feed, body.transfer, "push", (onProgress) =>
 *   push(ctx, { ...request, onProgress })
 * );
 * ```
 */
export async function withPublishedProgress<T>(
  feed: ActivityFeed,
  transfer: string | undefined,
  operation: "push" | "pull",
  run: (onProgress?: (progress: TransferProgress) => void) => Promise<T>,
): Promise<T> {
  if (transfer === undefined) return await run();
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
  try {
    return await run((progress) => {
      if (Date.now() - lastSent >= 1000 / LINES_PER_SECOND) send(progress);
      // The transfer keeps mutating the object it reports: keep a copy.
      else unsent = { ...progress };
    });
  } finally {
    if (unsent) send(unsent);
  }
}
