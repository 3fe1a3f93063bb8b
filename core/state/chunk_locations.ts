/**
 * Where this device has seen each chunk stored, per store: in the versions it
 * pushed, and in those it pulled, once every chunk was checked against its id.
 * Versions merely listed are not trusted here: a bad writer could pair common
 * ids with wrong places. A push names a chunk found here instead of uploading
 * it again, even under another path. A location is trusted only once its pack
 * (or stand-alone chunk object) is seen in the store, once per process and reading
 * of gc's condemned records: a store restored from an older backup, or one that lost
 * a volume, may lack it, gc may have deleted it, and a version naming it would be
 * lost. A location whose object is gone is forgotten, so the chunk is uploaded
 * again. Losing the table only costs re-uploads.
 *
 * @module
 */

import type { StateDb } from "./state_db.ts";
import type { ChunkRef } from "../remote/file_version.ts";
import type { ObjectStore } from "../store/object_store.ts";
import { contentObjectKey } from "../remote/content_objects.ts";

const SCHEMA = `CREATE TABLE IF NOT EXISTS chunk_locations (
  store TEXT NOT NULL, id TEXT NOT NULL, size INTEGER NOT NULL, pack TEXT,
  offset INTEGER, length INTEGER, PRIMARY KEY (store, id))`;

/**
 * Per store location, the objects (packs, stand-alone chunks) this process has seen in the
 * store, asked about, uploaded or read since it last read gc's condemned records: one
 * existence check each per reading.
 */
const seenObjects = new Map<string, Map<string, Promise<boolean>>>();

/**
 * Locations remembered lately, per state database: their rows wait for the state's next batch,
 * and a lookup must find them meanwhile (a push names the chunks it placed a moment ago). The
 * batch is written every 256 held rows, so the last few thousand cover every unwritten one.
 */
const recentLocations = new WeakMap<StateDb, Map<string, ChunkRef>>();
const RECENT_LOCATIONS = 4096;

function recentIn(state: StateDb): Map<string, ChunkRef> {
  let recent = recentLocations.get(state);
  if (!recent) recentLocations.set(state, recent = new Map());
  return recent;
}

function recentKey(storeLocation: string, id: string): string {
  return `${storeLocation}\u0000${id}`;
}

function objectsSeenIn(storeLocation: string): Map<string, Promise<boolean>> {
  let seen = seenObjects.get(storeLocation);
  if (!seen) seenObjects.set(storeLocation, seen = new Map());
  return seen;
}

/**
 * Records where the chunks of `refs` are stored in the store at `storeLocation`, which
 * holds them now (a version naming them was written, or they were read and checked).
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
  // Whether the objects are still there is not recorded here: it is known when they were read
  // or named, which may be before this process last read gc's condemned records.
  const recent = recentIn(state);
  for (const ref of refs) {
    const key = recentKey(storeLocation, ref.id);
    if (!recent.has(key)) recent.set(key, ref);
    if (recent.size > RECENT_LOCATIONS) recent.delete(recent.keys().next().value!);
    // With the next batch: a lost row only costs uploading the chunk again.
    state.holdWrite(
      "INSERT OR IGNORE INTO chunk_locations (store, id, size, pack, offset, length) VALUES (?,?,?,?,?,?)",
      [storeLocation, ref.id, ref.size, ref.pack ?? null, ref.offset ?? null, ref.length ?? null],
    );
  }
}

/**
 * Whether the pack (or stand-alone chunk object) holding `ref` is in `store`: asked once per
 * object per reading of gc's condemned records, and known without asking for the packs this
 * process uploaded since.
 *
 * @example
 * ```ts
 * if (!await isStored(ctx.store, ref)) console.log(`${ref.pack} is gone`);
 * ```
 */
export function isStored(store: ObjectStore, ref: ChunkRef): Promise<boolean> {
  const key = contentObjectKey(ref);
  const seen = objectsSeenIn(store.location);
  let present = seen.get(key);
  if (!present) {
    present = store.has(key);
    seen.set(key, present);
    // A failed check proves nothing: the next lookup asks again.
    present.catch(() => seen.delete(key));
  }
  return present;
}

/**
 * Records that this process has just put the object `key` (`packs/<id>`) in the store at
 * `storeLocation`, so that naming it costs no check.
 *
 * @example
 * ```ts
 * await store.put(key, body);
 * rememberObjectStored(store.location, key);
 * ```
 */
export function rememberObjectStored(storeLocation: string, key: string): void {
  objectsSeenIn(storeLocation).set(key, Promise.resolve(true));
}

/**
 * Starts what this process knows of the objects in the store at `storeLocation` afresh, from
 * gc's condemned records just read: the objects `condemned` (`packs/<id>`, `chunks/<id>`) are
 * gone, so no push may name their chunks again, and any other is checked again before it is
 * named. An object seen before may have been condemned and deleted since, its record gone with
 * it: only a check made after the records were read tells (`condemned_packs.ts`).
 *
 * @example
 * ```ts
 * restartObjectChecks(store.location, new Set(["packs/0a1b…"]));
 * ```
 */
export function restartObjectChecks(storeLocation: string, condemned: ReadonlySet<string>): void {
  seenObjects.delete(storeLocation);
  const seen = objectsSeenIn(storeLocation);
  for (const key of condemned) seen.set(key, Promise.resolve(false));
}

/**
 * Where the chunk `id` is stored in `store`, if this device knows and the object holding it
 * is there. The first lookup of each pack in a process asks the store; a pack that is gone
 * takes its chunks' locations with it, so they are uploaded again.
 *
 * @example
 * ```ts
 * const ref = await findStoredChunkLocation(ctx.state, ctx.store, id);
 * ```
 */
export async function findStoredChunkLocation(
  state: StateDb,
  store: ObjectStore,
  id: string,
): Promise<ChunkRef | undefined> {
  const ref = findChunkLocation(state, store.location, id);
  if (!ref) return undefined;
  if (await isStored(store, ref)) return ref;
  const recent = recentIn(state);
  for (const [key, held] of recent) {
    if (contentObjectKey(held) === contentObjectKey(ref)) recent.delete(key);
  }
  state.flush(); // a held row of the lost object must not come back after the delete
  state.statement(
    ref.pack === undefined
      ? "DELETE FROM chunk_locations WHERE store = ? AND id = ? AND pack IS NULL"
      : "DELETE FROM chunk_locations WHERE store = ? AND pack = ?",
  ).run(store.location, ref.pack ?? ref.id);
  return undefined;
}

/**
 * Where the chunk `id` is stored in the store at `storeLocation`, if this device knows;
 * unchecked: a push wants {@linkcode findStoredChunkLocation}.
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
  const held = recentIn(state).get(recentKey(storeLocation, id));
  if (held) return held;
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
  state.flush(); // held rows first, or they would come back after the delete
  recentLocations.delete(state);
  state.statement("DELETE FROM chunk_locations WHERE store = ?").run(storeLocation);
  seenObjects.delete(storeLocation);
}
