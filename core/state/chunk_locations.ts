/**
 * Where this device has seen each chunk stored, per store: in the versions it
 * pushed, and in those it pulled, once every chunk was checked against its id.
 * Versions merely listed are not trusted here: a bad writer could pair common
 * ids with wrong places. A push names a chunk found here instead of uploading
 * it again, even under another path. Packs are never deleted, so a location
 * stays true; losing the table only costs re-uploads.
 *
 * @module
 */

import type { StateDb } from "./state_db.ts";
import type { ChunkRef } from "../remote/file_version.ts";

const SCHEMA = `CREATE TABLE IF NOT EXISTS chunk_locations (
  store TEXT NOT NULL, id TEXT NOT NULL, size INTEGER NOT NULL, pack TEXT,
  offset INTEGER, length INTEGER, PRIMARY KEY (store, id))`;

/**
 * Records where the chunks of `refs` are stored in the store at `storeLocation`.
 *
 * @example
 * ```ts
 * rememberChunkLocations(state, ctx.store.location, written.version.chunks);
 * ```
 */
export function rememberChunkLocations(
  state: StateDb,
  storeLocation: string,
  refs: readonly ChunkRef[],
): void {
  if (refs.length === 0) return;
  state.ensureSchema(SCHEMA);
  const insert = state.statement(
    "INSERT OR IGNORE INTO chunk_locations (store, id, size, pack, offset, length) VALUES (?,?,?,?,?,?)",
  );
  state.transaction(() => {
    for (const ref of refs) {
      insert.run(
        storeLocation,
        ref.id,
        ref.size,
        ref.pack ?? null,
        ref.offset ?? null,
        ref.length ?? null,
      );
    }
  });
}

/**
 * Where the chunk `id` is stored in the store at `storeLocation`, if this device knows.
 *
 * @example
 * ```ts
 * const ref = findChunkLocation(state, ctx.store.location, id);
 * ```
 */
export function findChunkLocation(
  state: StateDb,
  storeLocation: string,
  id: string,
): ChunkRef | undefined {
  state.ensureSchema(SCHEMA);
  const row = state.statement(
    "SELECT size, pack, offset, length FROM chunk_locations WHERE store = ? AND id = ?",
  ).get(storeLocation, id) as
    | { size: number; pack: string | null; offset: number | null; length: number | null }
    | undefined;
  if (!row) return undefined;
  return row.pack === null
    ? { id, size: row.size }
    : { id, size: row.size, pack: row.pack, offset: row.offset!, length: row.length! };
}

/**
 * Forgets where chunks lie in the store at `storeLocation`, when the store turns
 * out to be another one.
 *
 * @example
 * ```ts
 * forgetChunkLocations(state, store.location);
 * ```
 */
export function forgetChunkLocations(state: StateDb, storeLocation: string): void {
  state.ensureSchema(SCHEMA);
  state.statement("DELETE FROM chunk_locations WHERE store = ?").run(storeLocation);
}
