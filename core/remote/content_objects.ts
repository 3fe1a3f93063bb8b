/**
 * The objects that hold content: packs of chunks, and chunks stored on their own by pushes from
 * before packs. A chunk ref names one of them.
 *
 * @module
 */

import type { ChunkRef } from "./file_version.ts";
import { chunkKey, CHUNKS_PREFIX, packKey, PACKS_PREFIX } from "./remote_keys.ts";
import type { ObjectStore } from "../store/object_store.ts";

/**
 * The store key of the object holding `ref`.
 *
 * @example
 * ```ts
 * contentObjectKey({ id, size, pack: "ab12…", offset: 0, length: 100 }); // "packs/ab12…"
 * ```
 */
export function contentObjectKey(ref: ChunkRef): string {
  return ref.pack === undefined ? chunkKey(ref.id) : packKey(ref.pack);
}

/**
 * Every content object in `store`, with its size: one listing of packs, one of chunks.
 *
 * @example
 * ```ts
 * const sizes = await contentObjectSizes(store);
 * ```
 */
export async function contentObjectSizes(store: ObjectStore): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const prefix of [PACKS_PREFIX, CHUNKS_PREFIX]) {
    for await (const info of store.list(prefix)) sizes.set(info.key, info.size);
  }
  return sizes;
}
