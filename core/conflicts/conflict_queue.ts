/**
 * Conflicts waiting for the user: recorded wherever one is met (push, pull,
 * the daemon) and cleared when resolved or when it disappears.
 *
 * A clear is held with the state's next batch of writes (`StateDb.holdWrite`), as the tracked
 * row that settles the path is: a push or pull clears every path it syncs, nearly all of them
 * without a conflict, and a write transaction each cost more than the path's other records.
 * Queueing and listing write the held batch first, so that this process never sees a cleared
 * conflict, nor has a later conflict removed by an earlier clear; another process sees a clear
 * with the batch, within a moment.
 *
 * @module
 */

import type { StateDb } from "../state/state_db.ts";

/** One queued conflict. */
export interface QueuedConflict {
  namespace: string;
  path: string;
  local_path: string;
  /** Where it was met: push, pull or daemon. */
  detected_by: string;
  detected_at: string;
  /** Authors (device names) of the remote versions this device has not seen. */
  remote_authors: string[];
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS conflicts (
  namespace TEXT NOT NULL, path TEXT NOT NULL, local_path TEXT NOT NULL, detected_by TEXT NOT NULL,
  detected_at TEXT NOT NULL, remote_authors TEXT NOT NULL, PRIMARY KEY (namespace, path))`;

/** Conflicts this process queued, per state db: what {@linkcode conflictClearer} looks at. */
const queuedSoFar = new WeakMap<StateDb, number>();

function ensure(state: StateDb): StateDb {
  state.ensureSchema(SCHEMA);
  return state;
}

/**
 * Adds or refreshes a conflict (the first detection time is kept).
 *
 * @example
 * ```ts
 * queueConflict(state, { namespace, path, local_path, detected_by: "push", detected_at, remote_authors });
 * ```
 */
export function queueConflict(state: StateDb, conflict: QueuedConflict): void {
  ensure(state).flush();
  queuedSoFar.set(state, (queuedSoFar.get(state) ?? 0) + 1);
  state.statement(
    `INSERT INTO conflicts VALUES (?,?,?,?,?,?) ON CONFLICT(namespace, path) DO UPDATE SET
     local_path = excluded.local_path, remote_authors = excluded.remote_authors`,
  ).run(
    conflict.namespace,
    conflict.path,
    conflict.local_path,
    conflict.detected_by,
    conflict.detected_at,
    JSON.stringify(conflict.remote_authors),
  );
}

/**
 * Lists queued conflicts, optionally for one namespace.
 *
 * @example
 * ```ts
 * for (const c of listConflicts(state)) console.log(c.path);
 * ```
 */
export function listConflicts(state: StateDb, namespace?: string): QueuedConflict[] {
  const db = ensure(state);
  db.flush();
  const rows = namespace === undefined
    ? db.statement("SELECT * FROM conflicts ORDER BY namespace, path").all()
    : db.statement("SELECT * FROM conflicts WHERE namespace = ? ORDER BY path").all(namespace);
  return rows.map((row) => ({
    namespace: row.namespace as string,
    path: row.path as string,
    local_path: row.local_path as string,
    detected_by: row.detected_by as string,
    detected_at: row.detected_at as string,
    remote_authors: JSON.parse(row.remote_authors as string),
  }));
}

/**
 * Removes a conflict from the queue, with the state's next batch of writes.
 *
 * @example
 * ```ts
 * clearConflict(state, "default", "docs/a.txt");
 * ```
 */
export function clearConflict(state: StateDb, namespace: string, path: string): void {
  ensure(state).holdWrite("DELETE FROM conflicts WHERE namespace = ? AND path = ?", [
    namespace,
    path,
  ]);
}

/**
 * {@linkcode clearConflict} for one sync run in `namespace`, which does nothing while the queue
 * holds none of the namespace's conflicts: a first pull of a tree then holds no write per file
 * for the queue. The queue is read once, as the run begins; a conflict queued later by this
 * process (a mount's write-back beside a daemon's pull) turns it back into a plain
 * {@linkcode clearConflict}. Syncing processes do not queue meanwhile: each holds the writer
 * lock (`writer_lock.ts`). A `tcfs mount` of its own does not; a conflict it queues for a path
 * while a pull brings that very path in line stays queued until the path is synced again or
 * the conflict is resolved.
 *
 * @example
 * ```ts
 * const clear = conflictClearer(ctx.state, ctx.namespace);
 * clear("docs/a.txt"); // once docs/a.txt is synced
 * ```
 */
export function conflictClearer(state: StateDb, namespace: string): (path: string) => void {
  const db = ensure(state);
  db.flush();
  const queued = db.statement("SELECT 1 FROM conflicts WHERE namespace = ? LIMIT 1").get(namespace);
  const queuedBefore = queuedSoFar.get(state) ?? 0;
  return (path) => {
    if (queued || (queuedSoFar.get(state) ?? 0) !== queuedBefore) {
      clearConflict(state, namespace, path);
    }
  };
}
