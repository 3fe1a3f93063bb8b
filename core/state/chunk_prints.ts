/**
 * The chunks of each file's last synced version, with their fingerprints, kept
 * on the device so that the next push of an edited file can skip what did not
 * change (`core/sync/edit_chunker.ts`). Losing them costs only a full pass.
 *
 * @module
 */

import { startsWithArgs, startsWithSql } from "./path_prefix_sql.ts";
import { storeFilingPrefix } from "./store_filing.ts";
import type { StatementSync } from "node:sqlite";
import type { StateDb } from "./state_db.ts";
import type { PrintedChunk } from "../sync/edit_chunker.ts";

const SCHEMA = `CREATE TABLE IF NOT EXISTS chunk_prints (
  namespace TEXT NOT NULL, path TEXT NOT NULL, version_key TEXT NOT NULL, chunks TEXT NOT NULL,
  PRIMARY KEY (namespace, path))`;

/** Files of fewer chunks have no prints kept ({@linkcode saveChunkPrints}). */
export const MIN_PRINTED_CHUNKS = 2;

/** One row per file; a chunk is `[id, size, print, pack, offset, length]`. */
type StoredChunk = [string, number, string, string?, number?, number?];

function statement(state: StateDb, sql: string): StatementSync {
  state.ensureSchema(SCHEMA);
  return state.statement(sql);
}

/**
 * Records the chunks of the version `versionKey` that the local copy of `path` now holds.
 * Nothing is recorded for a file of fewer than two chunks: an edit reuses a last chunk only
 * where the file still ends with it (`edit_chunker.ts`), so a file's only chunk is reused only
 * when the file did not change, and hashing it again then costs microseconds. Most files of a
 * tree are that small. An older row stays, but it names an older version, so
 * {@linkcode loadChunkPrints} never returns it.
 *
 * @example
 * ```ts
 * saveChunkPrints(state, trackedNamespace(ctx), "disk.img", written.key, prints);
 * ```
 */
export function saveChunkPrints(
  state: StateDb,
  namespace: string,
  path: string,
  versionKey: string,
  chunks: readonly PrintedChunk[],
): void {
  if (chunks.length < MIN_PRINTED_CHUNKS) return;
  const stored = chunks.map((c): StoredChunk =>
    c.pack === undefined
      ? [c.id, c.size, c.print]
      : [c.id, c.size, c.print, c.pack, c.offset, c.length]
  );
  state.ensureSchema(SCHEMA);
  // With the next batch: a lost row only costs the next push of an edit some rereading.
  state.holdWrite(
    "INSERT OR REPLACE INTO chunk_prints (namespace, path, version_key, chunks) VALUES (?, ?, ?, ?)",
    [namespace, path, versionKey, JSON.stringify(stored)],
  );
}

/**
 * The recorded chunks of `path`, if they describe the version `versionKey`.
 *
 * @example
 * ```ts
 * const previous = loadChunkPrints(state, ns, "disk.img", tracked.baseKey) ?? [];
 * ```
 */
export function loadChunkPrints(
  state: StateDb,
  namespace: string,
  path: string,
  versionKey: string,
): PrintedChunk[] | undefined {
  const row = statement(
    state,
    "SELECT chunks FROM chunk_prints WHERE namespace = ? AND path = ? AND version_key = ?",
  ).get(namespace, path, versionKey) as { chunks: string } | undefined;
  if (!row) return undefined;
  return (JSON.parse(row.chunks) as StoredChunk[]).map(([id, size, print, pack, offset, length]) =>
    pack === undefined ? { id, size, print } : { id, size, print, pack, offset, length }
  );
}

/**
 * Forgets the recorded chunks of every path filed for the store at `location`,
 * when the store turns out to be another one.
 *
 * @example
 * ```ts
 * forgetChunkPrints(state, store.location);
 * ```
 */
export function forgetChunkPrints(state: StateDb, location: string): void {
  state.flush(); // held rows first, or they would come back after the delete
  const prefix = storeFilingPrefix(location);
  statement(state, `DELETE FROM chunk_prints WHERE ${startsWithSql("namespace")}`)
    .run(...startsWithArgs(prefix));
}
