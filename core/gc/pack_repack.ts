/**
 * gc's repack stage: a pack mostly dead (less than {@linkcode REPACK_BELOW_LIVE} of its bytes
 * still named) that only the kept versions of the pruned namespace name has its live chunks
 * copied into new packs, every chunk checked against its id on the way (keyed BLAKE3 for the
 * chunks of format 3 versions), and those versions
 * rewritten to name the copies. The old pack then has no reference left and goes the way of
 * any unreferenced pack (condemned, then deleted).
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import { type ChunkRef, type FileVersion, KEYED_VERSION_FORMAT } from "../remote/file_version.ts";
import { chunkIdKey } from "../remote/chunk_id_key.ts";
import { decodeChunk } from "../chunking/chunk_codec.ts";
import { blake3Hex } from "../hashing/blake3.ts";
import { createPackWriter, type PlacedChunk } from "../sync/pack_writer.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";
import { unsealStored } from "../crypto/sealed_object.ts";
import { TcfsError } from "../errors.ts";
import type { PackReferences } from "./pack_references.ts";
import { contentObjectKey } from "../remote/content_objects.ts";
import { PACKS_PREFIX } from "../remote/remote_keys.ts";

/** A pack with less than this share of its bytes named is repacked. */
export const REPACK_BELOW_LIVE = 0.5;

/** What repacking did. */
export interface RepackResult {
  /** Packs whose live chunks were copied. */
  packs: number;
  /** Bytes those packs held, and bytes of the copies. */
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * The packs to repack: not pinned, and named for less than the threshold of their size.
 *
 * @example
 * ```ts
 * const candidates = repackCandidates(refs, sizes);
 * ```
 */
export function repackCandidates(
  refs: PackReferences,
  sizes: ReadonlyMap<string, number>,
): string[] {
  const candidates: string[] = [];
  for (const [key, ranges] of refs.ranges) {
    const size = sizes.get(key);
    if (!key.startsWith(PACKS_PREFIX) || refs.pinned.has(key) || !size) continue;
    const live = [...ranges.values()].reduce((n, r) => n + r.length, 0);
    if (live < size * REPACK_BELOW_LIVE) candidates.push(key);
  }
  return candidates;
}

/**
 * Copies the live chunks of `packs` into new packs and rewrites `versions` (in place) to name
 * them; updates `refs` to match. Resolves once the new packs are durable.
 *
 * @example
 * ```ts
 * const result = await repack(store, ctx.keys, repackCandidates(refs, sizes), refs, pruned.kept, sizes);
 * ```
 */
export async function repack(
  store: ObjectStore,
  keys: FleetKeys | undefined,
  packs: readonly string[],
  refs: PackReferences,
  versions: FileVersion[],
  sizes: ReadonlyMap<string, number>,
): Promise<RepackResult> {
  // Chunks come out of their box and go into the new pack sealed with the current epoch.
  const writer = createPackWriter(store, { keys });
  const moved = new Map<string, PlacedChunk & { keyed: boolean }>();
  const result: RepackResult = { packs: 0, bytesBefore: 0, bytesAfter: 0 };
  for (const key of packs) {
    const body = await store.get(key);
    if (!body) continue; // gone already: its versions' content is lost either way, check says so
    for (const [offset, range] of refs.ranges.get(key)!) {
      const sealed = body.subarray(offset, offset + range.length);
      const stored = await unsealStored(keys, sealed, range.id).catch(() => undefined);
      const raw = stored && await decodeChunk(stored).catch(() => undefined);
      const idKey = range.keyed ? chunkIdKey(KEYED_VERSION_FORMAT, keys) : undefined;
      if (
        sealed.length !== range.length || !stored || !raw ||
        await blake3Hex(raw, idKey) !== range.id
      ) {
        throw new TcfsError(`chunk ${range.id} at ${offset} in ${key} is damaged`, {
          kind: "corrupt_chunk",
          hint:
            "gc stopped before deleting anything; run `tcfs check --read-data` to see what it affects",
        });
      }
      const placed = await writer.place(range.id, raw, {
        format: stored[0],
        payload: stored.subarray(1),
      });
      moved.set(`${key}@${offset}`, { ...placed, keyed: range.keyed });
    }
    result.packs++;
    result.bytesBefore += sizes.get(key) ?? body.length;
  }
  writer.flush();
  await Promise.all([...moved.values()].map((p) => p.durable));
  result.bytesAfter = writer.counters.bytesUploaded;
  for (const version of versions) {
    version.chunks = version.chunks.map((ref): ChunkRef => {
      const placed = moved.get(`${contentObjectKey(ref)}@${ref.offset ?? 0}`);
      return placed ? placed.ref : ref;
    });
  }
  for (const key of packs) refs.ranges.delete(key);
  for (const placed of moved.values()) {
    const key = contentObjectKey(placed.ref);
    let ranges = refs.ranges.get(key);
    if (!ranges) refs.ranges.set(key, ranges = new Map());
    ranges.set(placed.ref.offset!, {
      id: placed.ref.id,
      length: placed.ref.length!,
      keyed: placed.keyed,
    });
  }
  return result;
}
