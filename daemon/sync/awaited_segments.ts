/**
 * Journal segments that events named and a catch-up has not folded yet. An event carries the
 * author's segment number (`journal_seq`); a store whose listings lag its writes (some S3
 * gateways) may not list that segment at the receiver's first catch-up, and without a second
 * look the change would wait for the next poll, minutes later. Each segment gets a few looks,
 * then is left to the poll: an event is a hint, and a forged number must not keep the loop busy.
 *
 * @module
 */

import type { SyncContext } from "../../core/sync/sync_context.ts";
import { trackedNamespace } from "../../core/sync/sync_context.ts";
import { journalCursors } from "../../core/journal/folded_versions.ts";

/** Where a device's journal holds a change. */
export interface JournalPosition {
  device: string;
  seq: number;
}

/** Segments waited for. */
export interface AwaitedSegments {
  /** Notes that `position` holds a change. */
  expect(position: JournalPosition): void;
  /**
   * After a catch-up: forgets the segments it folded, and says whether any is still missing
   * and worth another look.
   */
  behind(ctx: SyncContext): boolean;
}

/** Looks a missing segment gets before it is left to the next poll. */
const LOOKS = 3;

/**
 * Creates an empty set of awaited segments; `warn` hears of one given up on.
 *
 * @example
 * ```ts
 * const awaited = createAwaitedSegments((m) => log("warning", m));
 * awaited.expect({ device: event.device_id, seq: event.journal_seq });
 * if (awaited.behind(ctx)) pollWanted = true;
 * ```
 */
export function createAwaitedSegments(warn: (message: string) => void): AwaitedSegments {
  const waiting = new Map<string, { seq: number; looks: number }>();
  return {
    expect({ device, seq }) {
      const known = waiting.get(device);
      if (!known || known.seq < seq) waiting.set(device, { seq, looks: 0 });
    },
    behind(ctx) {
      const cursors = journalCursors(ctx.state, trackedNamespace(ctx));
      for (const [device, entry] of waiting) {
        if ((cursors.get(device) ?? 0) >= entry.seq) waiting.delete(device);
        else if (++entry.looks > LOOKS) {
          waiting.delete(device);
          warn(
            `an event named segment ${entry.seq} of device ${device}, which the store does not ` +
              `list yet; the next poll will look again`,
          );
        }
      }
      return waiting.size > 0;
    },
  };
}
