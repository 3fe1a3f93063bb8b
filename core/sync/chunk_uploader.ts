/**
 * Uploads chunks with bounded concurrency, never twice: chunks the store
 * already holds, or that this run already sent, are skipped.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import { createLimiter } from "../concurrency/limiter.ts";
import { encodeChunk } from "../chunking/chunk_codec.ts";
import { chunkKey } from "../remote/remote_keys.ts";

/** Counters a push reports. */
export interface UploadCounters {
  chunksUploaded: number;
  bytesUploaded: number;
}

/** Uploads one chunk (by id) if the store lacks it. */
export interface ChunkUploader {
  /** Resolves once the chunk is durable in the store. */
  upload(id: string, raw: Uint8Array): Promise<void>;
  readonly counters: UploadCounters;
}

/**
 * Creates an uploader shared by every file of one push.
 *
 * @example
 * ```ts
 * const uploader = createChunkUploader(store, 16);
 * await uploader.upload(id, bytes);
 * ```
 */
export function createChunkUploader(store: ObjectStore, concurrency: number): ChunkUploader {
  const limiter = createLimiter(concurrency);
  const inFlight = new Map<string, Promise<void>>();
  const counters: UploadCounters = { chunksUploaded: 0, bytesUploaded: 0 };
  return {
    counters,
    upload(id, raw) {
      let pending = inFlight.get(id);
      if (!pending) {
        pending = limiter.run(async () => {
          const key = chunkKey(id);
          if (await store.has(key)) return;
          const stored = await encodeChunk(raw);
          await store.put(key, stored);
          counters.chunksUploaded++;
          counters.bytesUploaded += stored.length;
        });
        // A failed upload must be retried by a later file, not remembered as done.
        pending.catch(() => inFlight.delete(id));
        inFlight.set(id, pending);
      }
      return pending;
    },
  };
}
