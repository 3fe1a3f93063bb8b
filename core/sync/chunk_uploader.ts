/**
 * Uploads chunks with bounded concurrency, never twice: chunks the store
 * already holds, or that this run already sent, are skipped.
 *
 * S3 requests cost more than bytes, so existence checks are spent only
 * where they can pay off: a chunk the caller knows is stored (it belongs to
 * a version already in the store; tcfs never deletes chunks) is not checked
 * at all, and a file whose first chunks all turn out to be new stops
 * checking and uploads the rest directly.
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

/** Whether to ask the store first: "check" costs a request, "skip-check" may re-send bytes. */
export type ExistenceCheck = "check" | "skip-check";

/** Uploads one chunk (by id) if the store lacks it. */
export interface ChunkUploader {
  /** Resolves once the chunk is durable in the store: true when it was uploaded now. */
  upload(id: string, raw: Uint8Array, check: ExistenceCheck): Promise<boolean>;
  readonly counters: UploadCounters;
}

/**
 * Creates an uploader shared by every file of one push.
 *
 * @example
 * ```ts
 * const uploader = createChunkUploader(store, 8);
 * await uploader.upload(id, bytes, "check");
 * ```
 */
export function createChunkUploader(store: ObjectStore, concurrency: number): ChunkUploader {
  const limiter = createLimiter(concurrency);
  const inFlight = new Map<string, Promise<boolean>>();
  const counters: UploadCounters = { chunksUploaded: 0, bytesUploaded: 0 };
  return {
    counters,
    upload(id, raw, check) {
      let pending = inFlight.get(id);
      if (!pending) {
        pending = limiter.run(async () => {
          const key = chunkKey(id);
          if (check === "check" && await store.has(key)) return false;
          const stored = await encodeChunk(raw);
          await store.put(key, stored);
          counters.chunksUploaded++;
          counters.bytesUploaded += stored.length;
          return true;
        });
        // A failed upload must be retried by a later file, not remembered as done.
        pending.catch(() => inFlight.delete(id));
        inFlight.set(id, pending);
      }
      return pending;
    },
  };
}
