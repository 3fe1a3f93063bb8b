/**
 * Chunk ids and stored forms computed on worker threads: what a push would gain
 * from a second core, measured by `scripts/bench/pipeline.ts` (the "workers" rows).
 * The main thread reads and chunks while workers hash and compress in any order.
 *
 * hash-wasm and Deno 2.9.6's zstd both run on the calling thread, so a push is
 * bound to one core. tcfs does not use this pool yet: each worker adds ~87 MiB of
 * resident memory (2 workers: +134 MiB), which would break the 300 MB aim for a
 * 1 GiB push. Shipping it would also need `deno compile --include` of the worker
 * module (TCFS_DENO_INCLUDES in scripts/lib/deno-flags.sh) and
 * `scripts/compile.sh --check` to accept a `new Worker`.
 *
 * @module
 */

import { DEFAULT_ZSTD_LEVEL, type EncodeChunkOptions } from "../../core/chunking/chunk_codec.ts";
import type { ChunkAnswer, ChunkJob } from "./chunk_worker.ts";
import { TcfsError } from "../../core/errors.ts";

/** A chunk's id (BLAKE3 of its raw bytes, hex) and its stored form. */
export interface PreparedChunk {
  id: string;
  stored: Uint8Array<ArrayBuffer>;
}

/** One worker and the jobs it has not answered yet. */
interface PoolWorker {
  worker: Worker;
  pending: Map<number, PromiseWithResolvers<PreparedChunk>>;
}

/**
 * A fixed set of workers that prepare chunks for storage. Each job goes to the
 * worker with the fewest unanswered jobs. Close the pool (or let `using` do it) when
 * done: live workers keep the process running.
 */
export class ChunkWorkerPool implements Disposable {
  readonly #workers: PoolWorker[];
  #seq = 0;
  #closed = false;

  /**
   * Starts `size` workers; one per core by default, as the main thread's share
   * (reading, chunking, the whole-file hash) is the smaller one.
   *
   * @example
   * ```ts
   * using pool = new ChunkWorkerPool(2);
   * ```
   */
  constructor(size: number = navigator.hardwareConcurrency) {
    if (!Number.isInteger(size) || size < 1) {
      throw new TcfsError(`a chunk worker pool needs at least 1 worker, not ${size}`, {
        hint: "pass a positive integer, or nothing for one worker per core",
      });
    }
    const url = new URL("./chunk_worker.ts", import.meta.url);
    this.#workers = Array.from({ length: size }, () => {
      const entry: PoolWorker = { worker: new Worker(url, { type: "module" }), pending: new Map() };
      entry.worker.onmessage = ({ data }: MessageEvent<ChunkAnswer>) => settle(entry, data);
      entry.worker.onerror = (event) => {
        event.preventDefault();
        failAll(entry, new Error(`chunk worker failed: ${event.message}`));
      };
      return entry;
    });
  }

  /**
   * Computes the chunk's id and stored form on a worker. The chunk's memory moves to
   * the worker (its buffer is detached here) unless the chunk is a view of a larger
   * buffer, which is copied instead.
   *
   * @example
   * ```ts
   * using pool = new ChunkWorkerPool();
   * for await (const chunk of chunkStream(file)) {
   *   const { id, stored } = await pool.prepare(chunk);
   * }
   * ```
   */
  prepare(
    chunk: Uint8Array<ArrayBuffer>,
    { level = DEFAULT_ZSTD_LEVEL }: EncodeChunkOptions = {},
  ): Promise<PreparedChunk> {
    if (this.#closed) return Promise.reject(new Error("ChunkWorkerPool used after close()"));
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
      ? chunk
      : chunk.slice();
    const job: ChunkJob = { seq: this.#seq++, chunk: owned, level };
    const target = this.#workers.reduce((a, b) => b.pending.size < a.pending.size ? b : a);
    const settled = Promise.withResolvers<PreparedChunk>();
    target.pending.set(job.seq, settled);
    target.worker.postMessage(job, [owned.buffer]);
    return settled.promise;
  }

  /** Stops the workers; jobs still running are rejected. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#workers) {
      entry.worker.terminate();
      failAll(entry, new Error("ChunkWorkerPool closed before the chunk was prepared"));
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function settle(entry: PoolWorker, answer: ChunkAnswer): void {
  const job = entry.pending.get(answer.seq);
  entry.pending.delete(answer.seq);
  if ("error" in answer) job?.reject(new Error(`chunk worker: ${answer.error}`));
  else job?.resolve({ id: answer.id, stored: answer.stored });
}

function failAll(entry: PoolWorker, error: Error): void {
  for (const job of entry.pending.values()) job.reject(error);
  entry.pending.clear();
}
