/**
 * What a push may name instead of uploading, each chunk only once its pack is seen in the store
 * (`chunk_locations.ts`): a store restored from an older backup, or one that lost a volume, may
 * lack packs that this device remembers, that the last synced version used, or that the path's
 * own versions name, and a version naming them would be lost.
 *
 * @module
 */

import type { ChunkRef } from "../remote/file_version.ts";
import type { StateDb } from "../state/state_db.ts";
import { findStoredChunkLocation, isStored } from "../state/chunk_locations.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { PrintedChunk } from "./edit_chunker.ts";
import type { ChunkReuse } from "./file_saver.ts";

/** The candidates a push gathers for one path. */
export interface ReuseCandidates {
  /** The chunks of the version the local file had at its last sync, fingerprinted. */
  previous?: readonly PrintedChunk[];
  /** Chunks of versions read from the store for this path, by id. */
  known: ReadonlyMap<string, ChunkRef>;
}

/**
 * The candidates whose packs are in `store`, and a lookup of any other chunk this device knows
 * that checks the same way. The previous version's chunks go as a whole or not at all (the edit
 * walk follows their order): a file that lost any of them is chunked as new. The others are
 * checked when a chunk of the file turns out to be one of them.
 *
 * @example
 * ```ts
 * const reuse = await storedChunkReuse(ctx.state, ctx.store, { previous, known });
 * await saveFile(path, packs, { reuse });
 * ```
 */
export async function storedChunkReuse(
  state: StateDb,
  store: ObjectStore,
  candidates: ReuseCandidates,
): Promise<ChunkReuse> {
  const { previous, known } = candidates;
  const previousStored = previous &&
    (await Promise.all(previous.map((ref) => isStored(store, ref)))).every(Boolean);
  return {
    previous: previousStored ? previous : undefined,
    find: async (id) => {
      const ref = known.get(id);
      if (ref && await isStored(store, ref)) return ref;
      return await findStoredChunkLocation(state, store, id);
    },
  };
}
