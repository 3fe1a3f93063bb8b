/**
 * Chunk ids (BLAKE3) for one push or pull, computed on a second thread once it
 * has hashed enough bytes to pay for starting one.
 *
 * hash-wasm and Deno's zstd both run on the calling thread. Per byte, BLAKE3
 * costs ~1.6 ns here, reading, cutting, fingerprinting and packing ~1.2 ns, and
 * zstd ~4.6 ns on text (almost nothing on incompressible data, which a probe
 * skips). So the worker hashes every chunk, and a push also lets it encode every
 * other new chunk: both threads then carry about the same load on random data
 * and on text alike. A worker takes ~35 ms to start and some 40 MiB, which a push
 * of a small edit should not pay, so it starts only after
 * {@linkcode OFFLOAD_AFTER_BYTES}, and chunks are hashed in place until it is ready.
 *
 * @module
 */

import { blake3Hex } from "./blake3.ts";
import type { ChunkDone, ChunkJob, ChunkWorkerMessage } from "./chunk_worker.ts";
import { CHUNK_FORMAT_RAW, CHUNK_FORMAT_ZSTD, type EncodedChunk } from "../chunking/chunk_codec.ts";
import { transferableBytes } from "../concurrency/transferable_bytes.ts";
import { TcfsError } from "../errors.ts";

/**
 * Bytes hashed on the calling thread before the worker starts: more than an
 * edit's few changed chunks, and ~15 ms of hashing.
 */
export const OFFLOAD_AFTER_BYTES = 8 * 1024 * 1024;

/** A chunk with its id; `bytes` holds the chunk's content, whichever thread hashed it. */
export interface HashedChunk {
  /** BLAKE3 of the bytes, 64 lowercase hex digits. */
  id: string;
  bytes: Uint8Array;
  /** The stored form, when the worker encoded the chunk. */
  encoded?: EncodedChunk;
}

/** Options for {@linkcode ChunkHasher.hash}. */
export interface HashOptions {
  /** The chunk is bound for a pack: the worker may encode it too. */
  mayEncode?: boolean;
}

/** Hashes the chunks of one push or pull; dispose of it (or let `using` do it) at the end. */
export interface ChunkHasher extends Disposable {
  /**
   * Returns the chunk's id and its bytes. The chunk's memory may move to the
   * worker and back, which leaves `chunk` itself empty: read the returned bytes.
   * Answers come in the order the chunks were given.
   */
  hash(chunk: Uint8Array, options?: HashOptions): Promise<HashedChunk>;
  /** Bytes hashed on the worker so far. */
  readonly bytesOffloaded: number;
  /** Bytes the worker encoded so far. */
  readonly bytesEncodedOffThread: number;
}

/** Options for {@linkcode createChunkHasher}. */
export interface ChunkHasherOptions {
  /** Bytes hashed in place before the worker starts; {@linkcode OFFLOAD_AFTER_BYTES} by default. */
  offloadAfterBytes?: number;
}

/**
 * Creates the hasher for one push or pull. A machine with a single core never
 * starts the worker.
 *
 * @example
 * ```ts
 * using hasher = createChunkHasher();
 * for await (const chunk of chunkStream(file)) {
 *   const { id, bytes } = await hasher.hash(chunk);
 * }
 * ```
 */
export function createChunkHasher(options: ChunkHasherOptions = {}): ChunkHasher {
  const offloadAfter = navigator.hardwareConcurrency > 1
    ? options.offloadAfterBytes ?? OFFLOAD_AFTER_BYTES
    : Infinity;
  const waiting = new Map<number, PromiseWithResolvers<HashedChunk>>();
  let worker: Worker | undefined;
  let ready = false;
  let failure: Error | undefined;
  let hashedInPlace = 0;
  let bytesOffloaded = 0;
  let bytesEncodedOffThread = 0;
  let encodeNext = false;
  let seq = 0;

  function fail(err: Error): void {
    failure ??= err;
    for (const job of waiting.values()) job.reject(failure);
    waiting.clear();
    worker?.terminate();
  }

  function startWorker(): Worker {
    const started = new Worker(new URL("./chunk_worker.ts", import.meta.url), { type: "module" });
    started.onmessage = ({ data }: MessageEvent<ChunkWorkerMessage>) => {
      if ("ready" in data) {
        ready = true;
        return;
      }
      const job = waiting.get(data.seq);
      waiting.delete(data.seq);
      if ("error" in data) job?.reject(workerError(data.error));
      else job?.resolve({ id: data.id, bytes: data.chunk, encoded: encodedForm(data) });
    };
    started.onerror = (event) => {
      event.preventDefault();
      fail(workerError(event.message));
    };
    return started;
  }

  return {
    get bytesOffloaded() {
      return bytesOffloaded;
    },
    get bytesEncodedOffThread() {
      return bytesEncodedOffThread;
    },
    async hash(chunk, { mayEncode = false } = {}) {
      if (failure) throw failure;
      if (!ready || !worker) {
        hashedInPlace += chunk.length;
        if (!worker && hashedInPlace > offloadAfter) worker = startWorker();
        return { id: await blake3Hex(chunk), bytes: chunk };
      }
      const encode = mayEncode && (encodeNext = !encodeNext);
      const job: ChunkJob = { seq: ++seq, chunk: transferableBytes(chunk), encode };
      const answer = Promise.withResolvers<HashedChunk>();
      waiting.set(job.seq, answer);
      bytesOffloaded += chunk.length;
      if (encode) bytesEncodedOffThread += chunk.length;
      worker.postMessage(job, [job.chunk.buffer]);
      return await answer.promise;
    },
    [Symbol.dispose]() {
      fail(new TcfsError("the chunk hasher is closed: its push or pull has ended"));
      worker = undefined;
      ready = false;
    },
  };
}

function encodedForm(answer: ChunkDone): EncodedChunk | undefined {
  if (!answer.encoded) return undefined;
  return answer.compressed
    ? { format: CHUNK_FORMAT_ZSTD, payload: answer.compressed }
    : { format: CHUNK_FORMAT_RAW, payload: answer.chunk };
}

function workerError(message: string): TcfsError {
  return new TcfsError(`the chunk hashing thread failed: ${message}`, {
    hint: "this is a bug in tcfs; run the command again, and report it if it recurs",
  });
}
