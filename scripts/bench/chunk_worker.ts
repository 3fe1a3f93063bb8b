/**
 * The worker side of `ChunkWorkerPool` (chunk_worker_pool.ts): computes a chunk's id (BLAKE3 of
 * its raw bytes) and its stored form, and sends both back. Loaded only as a Worker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { encodeChunk } from "../../core/chunking/chunk_codec.ts";
import { blake3Hex } from "../../core/hashing/blake3.ts";

/** A chunk to identify and encode, as the pool posts it. */
export interface ChunkJob {
  /** The pool's number for this job, echoed in the answer. */
  seq: number;
  chunk: Uint8Array<ArrayBuffer>;
  /** zstd level for {@linkcode encodeChunk}. */
  level: number;
}

/** The worker's answer to a {@linkcode ChunkJob}: the id and stored bytes, or what failed. */
export type ChunkAnswer =
  | { seq: number; id: string; stored: Uint8Array<ArrayBuffer> }
  | { seq: number; error: string };

self.onmessage = async ({ data: job }: MessageEvent<ChunkJob>) => {
  let answer: ChunkAnswer;
  try {
    const id = await blake3Hex(job.chunk);
    answer = { seq: job.seq, id, stored: await encodeChunk(job.chunk, { level: job.level }) };
  } catch (err) {
    answer = { seq: job.seq, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(answer, "stored" in answer ? [answer.stored.buffer] : []);
};
