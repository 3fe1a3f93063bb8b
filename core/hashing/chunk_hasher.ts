/**
 * Chunk ids (BLAKE3) for one push, computed on a second thread once the push
 * has hashed enough new bytes to pay for starting it.
 *
 * BLAKE3 costs ~1.6 ns a byte here, about as much as reading, chunking,
 * fingerprinting and packing random data together, and hash-wasm runs on the
 * calling thread. With the hashing on a worker, the main thread cuts and packs
 * the next chunks while the worker hashes the last ones. Starting the worker
 * costs ~30 ms and ~20 MiB, which a push of a small edit would feel, so the
 * first {@linkcode OFFLOAD_AFTER_BYTES} are hashed in place.
 *
 * @module
 */

import { blake3Hex } from "./blake3.ts";
import type { HashAnswer, HashJob } from "./blake3_worker.ts";
import { TcfsError } from "../errors.ts";

/** New bytes a push hashes on its own thread before it starts the worker. */
export const OFFLOAD_AFTER_BYTES = 32 * 1024 * 1024;

/** A chunk with its id; `bytes` holds the chunk's content, whichever thread hashed it. */
export interface HashedChunk {
  /** BLAKE3 of the bytes, 64 lowercase hex digits. */
  id: string;
  bytes: Uint8Array;
}

/** Hashes the new chunks of one push; dispose of it (or let `using` do it) when the push ends. */
export interface ChunkHasher extends Disposable {
  /**
   * Returns the chunk's id and its bytes. The chunk's memory may move to the
   * worker and back, which leaves `chunk` itself empty: read the returned bytes.
   * Answers come in the order the chunks were given.
   */
  hash(chunk: Uint8Array): Promise<HashedChunk>;
  /** Bytes hashed on the worker so far. */
  readonly bytesOffloaded: number;
}

/** Options for {@linkcode createChunkHasher}. */
export interface ChunkHasherOptions {
  /** Bytes hashed in place before the worker starts; {@linkcode OFFLOAD_AFTER_BYTES} by default. */
  offloadAfterBytes?: number;
}

/**
 * Creates the hasher for one push. A machine with a single core never starts the worker.
 *
 * @example
 * ```ts
 * using hasher = createChunkHasher();
 * for await (const chunk of chunkStream(file)) {
 *   const { id, bytes } = await hasher.hash(chunk.slice());
 * }
 * ```
 */
export function createChunkHasher(options: ChunkHasherOptions = {}): ChunkHasher {
  const offloadAfter = navigator.hardwareConcurrency > 1
    ? options.offloadAfterBytes ?? OFFLOAD_AFTER_BYTES
    : Infinity;
  const waiting = new Map<number, PromiseWithResolvers<HashedChunk>>();
  let worker: Worker | undefined;
  let failure: Error | undefined;
  let hashedInPlace = 0;
  let bytesOffloaded = 0;
  let seq = 0;

  function fail(err: Error): void {
    failure ??= err;
    for (const job of waiting.values()) job.reject(failure);
    waiting.clear();
    worker?.terminate();
  }

  function startWorker(): Worker {
    const started = new Worker(new URL("./blake3_worker.ts", import.meta.url), { type: "module" });
    started.onmessage = ({ data }: MessageEvent<HashAnswer>) => {
      const job = waiting.get(data.seq);
      waiting.delete(data.seq);
      if ("error" in data) job?.reject(workerError(data.error));
      else job?.resolve({ id: data.id, bytes: data.chunk });
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
    async hash(chunk) {
      if (failure) throw failure;
      if (!worker && hashedInPlace < offloadAfter) {
        hashedInPlace += chunk.length;
        return { id: await blake3Hex(chunk), bytes: chunk };
      }
      worker ??= startWorker();
      const job: HashJob = { seq: ++seq, chunk: movable(chunk) };
      const answer = Promise.withResolvers<HashedChunk>();
      waiting.set(job.seq, answer);
      bytesOffloaded += chunk.length;
      worker.postMessage(job, [job.chunk.buffer]);
      return await answer.promise;
    },
    [Symbol.dispose]() {
      fail(new TcfsError("the chunk hasher is closed: its push has ended"));
      worker = undefined;
    },
  };
}

/** The chunk itself if it owns its whole buffer, which can then move; a copy otherwise. */
function movable(chunk: Uint8Array): Uint8Array<ArrayBuffer> {
  const whole = chunk.buffer instanceof ArrayBuffer && chunk.byteOffset === 0 &&
    chunk.byteLength === chunk.buffer.byteLength;
  return whole ? chunk as Uint8Array<ArrayBuffer> : chunk.slice();
}

function workerError(message: string): TcfsError {
  return new TcfsError(`the BLAKE3 worker thread failed: ${message}`, {
    hint: "this is a bug in tcfs; run the command again, and report it if it recurs",
  });
}
