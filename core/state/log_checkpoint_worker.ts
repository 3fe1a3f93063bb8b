/**
 * The worker side of {@linkcode checkpointOffThread} (log_checkpoint.ts): opens its own
 * connection to the database it is sent, copies what it can of the write-ahead log into it (a
 * passive checkpoint, which never waits for the other connections' writers or readers), closes
 * it and answers with SQLite's account. Loaded only as a Worker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DatabaseSync } from "node:sqlite";

/** The database whose log to checkpoint, and how long to wait for a lock to open it. */
export interface CheckpointJob {
  path: string;
  busyTimeoutMs: number;
}

/**
 * What the checkpoint did: `busy` when another connection was checkpointing (nothing was done),
 * the frames in the log, and those now in the database. Or why it failed.
 */
export type CheckpointAnswer =
  | { busy: boolean; logFrames: number; checkpointedFrames: number }
  | { error: string };

self.onmessage = ({ data }: MessageEvent<CheckpointJob>) => {
  let answer: CheckpointAnswer;
  try {
    const db = new DatabaseSync(data.path);
    try {
      db.exec(`PRAGMA busy_timeout=${data.busyTimeoutMs};`);
      const row = db.prepare("PRAGMA wal_checkpoint(PASSIVE);").get() as {
        busy: number;
        log: number;
        checkpointed: number;
      };
      answer = { busy: row.busy !== 0, logFrames: row.log, checkpointedFrames: row.checkpointed };
    } finally {
      db.close();
    }
  } catch (err) {
    answer = { error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(answer);
};
