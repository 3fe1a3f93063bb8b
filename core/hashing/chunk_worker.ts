/**
 * The worker side of {@linkcode createChunkHasher} (chunk_hasher.ts): hashes each
 * chunk it is sent, encodes it for storage when asked, and sends the results back
 * with the chunk's memory. Loaded only as a Worker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { blake3Hex } from "./blake3.ts";
import { CHUNK_FORMAT_RAW, encodeChunkParts } from "../chunking/chunk_codec.ts";
import { transferableBytes } from "../concurrency/transferable_bytes.ts";

/** A chunk to hash, and maybe encode, as the hasher posts it. */
export interface ChunkJob {
  /** The hasher's number for this job, echoed in the answer. */
  seq: number;
  chunk: Uint8Array<ArrayBuffer>;
  encode: boolean;
  /** The BLAKE3 key of the id (a sealed namespace's id key); the id is plain BLAKE3 without. */
  idKey?: Uint8Array;
}

/**
 * A finished {@linkcode ChunkJob}: the id and the chunk handed back and, when the
 * job asked for encoding, the chunk's stored format, with the zstd frame if that
 * format is zstd (a raw chunk's payload is the chunk itself).
 */
export interface ChunkDone {
  seq: number;
  id: string;
  chunk: Uint8Array<ArrayBuffer>;
  format?: number;
  compressed?: Uint8Array<ArrayBuffer>;
}

/** The answer to a {@linkcode ChunkJob}, or what failed. */
export type ChunkAnswer = ChunkDone | { seq: number; error: string };

/** What the worker posts: once that it is ready, then one answer per job. */
export type ChunkWorkerMessage = { ready: true } | ChunkAnswer;

self.onmessage = async ({ data: job }: MessageEvent<ChunkJob>) => {
  let answer: ChunkAnswer;
  try {
    const id = await blake3Hex(job.chunk, job.idKey);
    const encoded = job.encode ? encodeChunkParts(job.chunk) : undefined;
    const compressed = encoded && encoded.format !== CHUNK_FORMAT_RAW
      ? transferableBytes(encoded.payload)
      : undefined;
    answer = { seq: job.seq, id, chunk: job.chunk, format: encoded?.format, compressed };
  } catch (err) {
    answer = { seq: job.seq, error: err instanceof Error ? err.message : String(err) };
  }
  const moving = "chunk" in answer ? [answer.chunk.buffer] : [];
  if ("compressed" in answer && answer.compressed) moving.push(answer.compressed.buffer);
  self.postMessage(answer, moving);
};

// Until this arrives, the hasher keeps hashing in place rather than wait for the thread.
self.postMessage({ ready: true } satisfies ChunkWorkerMessage);
