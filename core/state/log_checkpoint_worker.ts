/**
 * The worker side of {@linkcode checkpointOffThread} (log_checkpoint.ts): opens its own
 * connection to the database it is sent, copies the write-ahead log into it (a passive
 * checkpoint, which never waits for the other connections' writers or readers), closes it and
 * answers. Loaded only as a Worker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { DatabaseSync } from "node:sqlite";

/** The database whose log to checkpoint. */
export interface CheckpointJob {
  path: string;
}

/** Nothing, or why the checkpoint failed. */
export type CheckpointAnswer = { done: true } | { error: string };

self.onmessage = ({ data }: MessageEvent<CheckpointJob>) => {
  let answer: CheckpointAnswer = { done: true };
  try {
    const db = new DatabaseSync(data.path);
    try {
      db.exec("PRAGMA wal_checkpoint(PASSIVE);");
    } finally {
      db.close();
    }
  } catch (err) {
    answer = { error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(answer);
};
