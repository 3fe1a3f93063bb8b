/**
 * A one-line progress bar on stderr, shown only on a terminal and only for
 * transfers that take long enough to need one.
 *
 * @module
 */

import type { TransferProgress } from "../core/sync/sync_context.ts";
import { formatBytes } from "./output.ts";

/** Updates and clears a progress line. */
export interface ProgressBar {
  /** False when nothing will ever be drawn (not a terminal, or not wanted). */
  readonly active: boolean;
  update(progress: TransferProgress): void;
  done(): void;
}

/** Wait this long before drawing, so quick commands stay quiet. */
const SHOW_AFTER_MS = 500;
const REDRAW_EVERY_MS = 100;

/**
 * Creates a progress bar for `label` ("push", "pull").
 *
 * @example
 * ```ts
 * const bar = createProgressBar("push", !options.json);
 * await push(ctx, { ...request, onProgress: bar.update });
 * bar.done();
 * ```
 */
export function createProgressBar(label: string, wanted: boolean): ProgressBar {
  const enabled = wanted && Deno.stderr.isTerminal();
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  return {
    active: enabled,
    update(p) {
      const now = Date.now();
      if (!enabled || now - started < SHOW_AFTER_MS || now - lastDraw < REDRAW_EVERY_MS) return;
      lastDraw = now;
      drawn = true;
      const fraction = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 0;
      const width = 24;
      const filled = Math.round(fraction * width);
      const rate = p.bytesDone / Math.max(0.001, (now - started) / 1000);
      write(
        `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${
          (fraction * 100).toFixed(0)
        }% ` +
          `${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} ${formatBytes(rate)}/s ` +
          `files ${p.filesDone}/${p.filesTotal}\x1b[K`,
      );
    },
    done() {
      if (drawn) write("\r\x1b[K");
    },
  };
}
