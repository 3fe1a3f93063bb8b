/**
 * Chunk ids (BLAKE3) for one push or pull, computed on a second thread once it
 * has hashed enough bytes to pay for starting one.
 *
 * hash-wasm and Deno's zstd both run on the calling thread. Per byte, BLAKE3
 * costs ~1.6 ns here, reading, cutting, fingerprinting and packing ~1.2 ns, and
 * zstd ~4.5 ns on text (almost nothing on incompressible data, which a probe
 * skips). So the worker hashes every chunk, and a push also lets it encode every
 * new one: the calling thread still reads, cuts, fingerprints, seals and packs
 * them, and besides runs the push's small files, its state database and its
 * requests (on the real tree of docs/BENCHMARKS.md, encoding every other chunk
 * there left the worker idle most of the push while the calling thread was the
 * busier by a second). A worker takes ~35 ms to start and some 40 MiB, which a push
 * of a small edit should not pay, so it starts only after
 * {@linkcode OFFLOAD_AFTER_BYTES}, and chunks are hashed in place until it is ready.
 *
 * @module
 */

import { blake3Hex } from "./blake3.ts";
import type { ChunkDone, ChunkJob, ChunkWorkerMessage } from "./chunk_worker.ts";
import type { EncodedChunk } from "../chunking/chunk_codec.ts";
import { transferableBytes } from "../concurrency/transferable_bytes.ts";
import { BUG_HINT, TcfsError } from "../errors.ts";

/**
 * Bytes of chunks the worker would take (from {@linkcode IN_PLACE_BELOW_BYTES} up) hashed on
 * the calling thread before the worker starts: more than an edit's few changed chunks, and
 * ~15 ms of hashing.
 */
export const OFFLOAD_AFTER_BYTES = 8 * 1024 * 1024;

/**
 * Chunks smaller than this are hashed on the calling thread even with the worker running: a
 * small file's chunk costs ~3 µs of BLAKE3 here against ~50 µs of messages to the worker and
 * back, and pulls and pushes of small files are made of nothing else.
 */
export const IN_PLACE_BELOW_BYTES = 16 * 1024;

/**
 * Chunk bytes waiting on the worker at most, across all of a push's files: each
 * file runs a few MiB ahead of its placed chunks, and 32 files stage at once.
 */
const MAX_BYTES_AT_WORKER = 16 * 1024 * 1024;

/** A chunk with its id; `bytes` holds the chunk's content, whichever thread hashed it. */
export interface HashedChunk {
  /** BLAKE3 of the bytes (keyed with the `idKey` asked for), 64 lowercase hex digits. */
  id: string;
  bytes: Uint8Array;
  /** The stored form, when the worker encoded the chunk. */
  encoded?: EncodedChunk;
}

/** Options for {@linkcode ChunkHasher.hash}. */
export interface HashOptions {
  /** The chunk is bound for a pack: the worker may encode it too. */
  mayEncode?: boolean;
  /**
   * The key of the chunk ids (`FleetKeys.idKey`, for a version of a sealed namespace): the id
   * is BLAKE3 keyed with it. Plain BLAKE3 without. Per chunk, since one pull reads versions of
   * both kinds (those written before `tcfs store encrypt` and after).
   */
  idKey?: Uint8Array;
}

/**
 * Hashes the chunks of one push or pull, and encodes a push's on the
 * way; dispose of it (or let `using` do it) at the end.
 */
export interface ChunkHasher extends Disposable {
  /**
   * Returns the chunk's id and its bytes. A chunk that spans its whole buffer
   * may move to the worker and back, which leaves `chunk` itself empty: read the
   * returned bytes.
   */
  hash(chunk: Uint8Array, options?: HashOptions): Promise<HashedChunk>;
  /** Bytes hashed on the worker so far. */
  readonly bytesOffloaded: number;
}

/** Options for {@linkcode createChunkHasher}. */
export interface ChunkHasherOptions {
  /** Bytes hashed in place before the worker starts; {@linkcode OFFLOAD_AFTER_BYTES} by default. */
  offloadAfterBytes?: number;
}

/**
 * Creates the hasher for one push or pull. A machine with a single core never
 * starts the worker, and a worker that fails to start leaves the hashing in place.
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
  let offloadAfter = navigator.hardwareConcurrency > 1
    ? options.offloadAfterBytes ?? OFFLOAD_AFTER_BYTES
    : Infinity;
  const waiting = new Map<number, PromiseWithResolvers<HashedChunk>>();
  let worker: Worker | undefined;
  let workerReady = false;
  let failure: Error | undefined;
  let hashedInPlace = 0;
  let bytesOffloaded = 0;
  let bytesAtWorker = 0;
  /** Settles when the worker answers, for callers waiting for room. */
  let answered = Promise.withResolvers<void>();
  let seq = 0;

  function fail(err: Error): void {
    failure ??= err;
    for (const job of waiting.values()) job.reject(failure);
    waiting.clear();
    answered.resolve();
    worker?.terminate();
  }

  function startWorker(): Worker {
    const started = new Worker(new URL("./chunk_worker.ts", import.meta.url), { type: "module" });
    started.onmessage = ({ data }: MessageEvent<ChunkWorkerMessage>) => {
      if ("ready" in data) {
        workerReady = true;
        return;
      }
      if ("error" in data) return fail(workerError(data.error));
      const job = waiting.get(data.seq);
      waiting.delete(data.seq);
      bytesAtWorker -= data.chunk.length;
      answered.resolve();
      answered = Promise.withResolvers<void>();
      job?.resolve({ id: data.id, bytes: data.chunk, encoded: encodedForm(data) });
    };
    started.onmessageerror = () => fail(workerError("an answer could not be read"));
    started.onerror = (event) => {
      event.preventDefault();
      if (workerReady) return fail(workerError(event.message));
      // A worker that never came up (say, a binary built without its module):
      // hashing in place is slower, not wrong.
      started.terminate();
      worker = undefined;
      offloadAfter = Infinity;
    };
    return started;
  }

  return {
    get bytesOffloaded() {
      return bytesOffloaded;
    },
    async hash(chunk, { mayEncode = false, idKey } = {}) {
      if (failure) throw failure;
      // Small chunks never go to the worker, so they do not count towards starting it: a push
      // of small files only would pay a thread and its isolate (some 40 MiB) for nothing.
      if (chunk.length < IN_PLACE_BELOW_BYTES) {
        return { id: await blake3Hex(chunk, idKey), bytes: chunk };
      }
      if (!workerReady || !worker) {
        if (!worker && hashedInPlace > offloadAfter) worker = startWorker();
        hashedInPlace += chunk.length;
        return { id: await blake3Hex(chunk, idKey), bytes: chunk };
      }
      while (bytesAtWorker >= MAX_BYTES_AT_WORKER && !failure) await answered.promise;
      if (failure) throw failure;
      const job: ChunkJob = {
        seq: ++seq,
        chunk: transferableBytes(chunk),
        encode: mayEncode,
        idKey,
      };
      const answer = Promise.withResolvers<HashedChunk>();
      waiting.set(job.seq, answer);
      bytesOffloaded += job.chunk.length;
      bytesAtWorker += job.chunk.length;
      worker.postMessage(job, [job.chunk.buffer]);
      return await answer.promise;
    },
    [Symbol.dispose]() {
      fail(new TcfsError("the chunk hasher is closed: its push or pull has ended"));
      worker = undefined;
      workerReady = false;
    },
  };
}

/**
 * Hashes `bytes` with `hasher`, or in place without one (for callers that never
 * move enough data to want a worker).
 *
 * @example
 * ```ts
 * const { id, bytes: same } = await hashChunk(bytes, undefined, { idKey: ctx.keys?.idKey });
 * ```
 */
export function hashChunk(
  bytes: Uint8Array,
  hasher: ChunkHasher | undefined,
  options?: HashOptions,
): Promise<HashedChunk> {
  return hasher
    ? hasher.hash(bytes, options)
    : blake3Hex(bytes, options?.idKey).then((id) => ({ id, bytes }));
}

function encodedForm(answer: ChunkDone): EncodedChunk | undefined {
  if (answer.format === undefined) return undefined;
  return { format: answer.format, payload: answer.compressed ?? answer.chunk };
}

function workerError(message: string): TcfsError {
  return new TcfsError(`the chunk hashing thread failed: ${message}`, {
    hint: BUG_HINT,
  });
}
