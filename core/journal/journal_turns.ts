/**
 * Segment writes to one device's journal take turns within a process. A segment is numbered
 * one past the last this device's state db folded, so two batches writing at once (a daemon
 * pushes the paths of one step side by side, each push with its batch) pick the same number:
 * all but one lose it, catch up and try again, and after a few lost tries a path is taken for
 * a conflict with this very device and never pushed. In turns, each write numbers its segment
 * after the one before it has been folded. Other writers with this device id (a cloned home,
 * a CLI beside the daemon) keep their own state db and still meet the race the batch settles.
 *
 * @module
 */

import type { StateDb } from "../state/state_db.ts";
import type { SyncContext } from "../sync/sync_context.ts";
import { trackedNamespace } from "../sync/sync_context.ts";

/** The last write queued for each journal, by the state db that numbers its segments. */
const lastTurns = new WeakMap<StateDb, Map<string, Promise<void>>>();

/**
 * Runs `write` once every write queued before it for this device's journal (in `ctx`'s
 * namespace, numbered from `ctx.state`) has settled; turns go in the order they were taken.
 *
 * @example
 * ```ts
 * await inJournalTurn(ctx, () => writeSegments(ctx, queued));
 * ```
 */
export function inJournalTurn(ctx: SyncContext, write: () => Promise<void>): Promise<void> {
  let turns = lastTurns.get(ctx.state);
  if (!turns) lastTurns.set(ctx.state, turns = new Map());
  const journal = `${trackedNamespace(ctx)}\n${ctx.device.id}`;
  const turn = (turns.get(journal) ?? Promise.resolve()).then(write);
  const settled = turn.then(() => {}, () => {});
  turns.set(journal, settled);
  settled.then(() => {
    if (turns.get(journal) === settled) turns.delete(journal);
  });
  return turn;
}
