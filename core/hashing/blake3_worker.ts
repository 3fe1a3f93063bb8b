/**
 * The worker side of {@linkcode createChunkHasher} (chunk_hasher.ts): hashes each
 * chunk it is sent and sends the id back with the chunk's memory. It imports only
 * hash-wasm, so the thread costs ~20 MiB. Loaded only as a Worker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { blake3Hex } from "./blake3.ts";

/** A chunk to hash, as the hasher posts it. */
export interface HashJob {
  /** The hasher's number for this job, echoed in the answer. */
  seq: number;
  chunk: Uint8Array<ArrayBuffer>;
}

/** The answer to a {@linkcode HashJob}: the id and the chunk handed back, or what failed. */
export type HashAnswer =
  | { seq: number; id: string; chunk: Uint8Array<ArrayBuffer> }
  | { seq: number; error: string };

self.onmessage = async ({ data: job }: MessageEvent<HashJob>) => {
  let answer: HashAnswer;
  try {
    answer = { seq: job.seq, id: await blake3Hex(job.chunk), chunk: job.chunk };
  } catch (err) {
    answer = { seq: job.seq, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(answer, "chunk" in answer ? [answer.chunk.buffer] : []);
};
