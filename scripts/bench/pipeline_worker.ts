/**
 * The bench's worker: computes a chunk's id and stored form off the main thread, as
 * a push could spread that work over cores.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { encodeChunk } from "../../core/chunking/chunk_codec.ts";
import { blake3Hex } from "../../core/hashing/blake3.ts";

/** A chunk to identify and encode. */
export interface ChunkJob {
  seq: number;
  chunk: Uint8Array;
  level: number;
}

/** The worker's answer to a {@linkcode ChunkJob}. */
export interface ChunkResult {
  seq: number;
  id: string;
  stored: Uint8Array<ArrayBuffer>;
}

self.onmessage = async ({ data }: MessageEvent<ChunkJob>) => {
  const id = await blake3Hex(data.chunk);
  const stored = await encodeChunk(data.chunk, { level: data.level });
  const result: ChunkResult = { seq: data.seq, id, stored };
  self.postMessage(result, [stored.buffer]);
};
