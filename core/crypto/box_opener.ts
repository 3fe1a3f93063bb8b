/**
 * Opens a pull's sealed chunks, decodes and hashes them on a thread of its own. Deno's WebCrypto
 * decrypts on the calling thread (256 queued 1 MiB decrypts left the event loop 3 turns in
 * 1.3 s), and a pull's main thread already reads and writes: opening every box there made a
 * sealed 1 GiB pull 1.5× a plaintext one. The thread that opens a chunk also decodes it and
 * computes its id, so that a sealed pull runs one worker (an isolate and its allocator arena,
 * some 35 MB of RSS each) instead of this one and the chunk hasher's, and each chunk crosses
 * between threads twice instead of four times. Like the hasher, the opener works in place until
 * a pull has opened {@linkcode OFFLOAD_AFTER_BYTES}, so a small pull starts no thread, and small
 * boxes are opened in place, where they cost less than a message each would. Once the worker
 * runs, a pull's prefetch hands it whole runs of a pack ({@linkcode BoxOpener.openRun}): a run's
 * many small boxes cross in one message each way, and leave the pull's main thread, which was the
 * busier side of a real tree's pull (docs/BENCHMARKS.md).
 *
 * @module
 */

import type { FleetKeys, SealKey } from "./fleet_keys.ts";
import { unsealStored } from "./sealed_object.ts";
import type {
  OpenAnswer,
  OpenerKeys,
  OpenFailure,
  OpenJob,
  OpenRunAnswer,
  OpenRunJob,
} from "./box_opener_worker.ts";
import {
  type HashedChunk,
  IN_PLACE_BELOW_BYTES,
  OFFLOAD_AFTER_BYTES,
} from "../hashing/chunk_hasher.ts";
import { blake3Hex } from "../hashing/blake3.ts";
import { decodeChunk } from "../chunking/chunk_codec.ts";
import { releaseBuffer } from "../runtime/released_buffer.ts";
import { BUG_HINT, TcfsError } from "../errors.ts";

/** Opens sealed chunks; dispose of it at the end of the pull. */
export interface BoxOpener extends Disposable {
  /**
   * The raw chunk inside the stored form `stored` (opened when it is sealed, then decoded) and
   * its id: BLAKE3 of the raw bytes, keyed with `idKey` when given. The caller checks both
   * against the chunk's reference.
   *
   * @throws {TcfsError} as `unsealStored` and `decodeChunk` do.
   */
  open(stored: Uint8Array, place: string, idKey?: Uint8Array): Promise<HashedChunk>;
  /**
   * Opens each of `slices` of `run` (part of a pack) on the worker, as {@linkcode open} would:
   * for each slice in order, a promise of its raw chunk and id, or of the error opening it met
   * (a promise rejects only when the worker failed or the opener was closed). `run` is moved to
   * the worker when it spans its buffer, and reads as empty after. The worker starts if it has
   * not yet: for work that {@linkcode offloadsFor} says is worth it.
   */
  openRun(run: Uint8Array, slices: readonly RunSlice[]): Promise<OpenedSlice>[];
  /**
   * Whether `bytes` more boxes would go to the worker: it runs already, or they would take the
   * pull past what is opened in place. Never on a machine of one core, nor once closed.
   */
  offloadsFor(bytes: number): boolean;
}

/** A box within a run: where it starts and how long it is, what it is bound to, its id's key. */
export interface RunSlice {
  at: number;
  length: number;
  place: string;
  idKey?: Uint8Array;
}

/** A slice of a run opened: its raw chunk and id, or why it did not open. */
export type OpenedSlice = HashedChunk | TcfsError;

/** Options for {@linkcode createBoxOpener}. */
export interface BoxOpenerOptions {
  /** Bytes opened in place before the worker starts ({@linkcode OFFLOAD_AFTER_BYTES}). */
  offloadAfterBytes?: number;
}

/**
 * Creates the opener for one pull.
 *
 * @example
 * ```ts
 * using opener = createBoxOpener(ctx.keys);
 * const { id, bytes } = await opener.open(sealed, ref.id, chunkIdKey(version.format, ctx.keys));
 * ```
 */
export function createBoxOpener(keys: FleetKeys, options: BoxOpenerOptions = {}): BoxOpener {
  const waiting = new Map<number, PromiseWithResolvers<HashedChunk>>();
  /** Per run sent, the answers of its slices still to come. */
  const waitingRuns = new Map<number, PromiseWithResolvers<OpenedSlice>[]>();
  let worker: Worker | undefined;
  let openedInPlace = 0;
  let offloadAfter = navigator.hardwareConcurrency > 1
    ? options.offloadAfterBytes ?? OFFLOAD_AFTER_BYTES
    : Infinity;
  let failure: Error | undefined;
  let seq = 0;

  function fail(err: Error): void {
    failure ??= err;
    for (const job of [...waiting.values(), ...waitingRuns.values()].flat()) job.reject(failure);
    waiting.clear();
    waitingRuns.clear();
    worker?.terminate();
  }

  function startWorker(): Worker {
    const started = new Worker(new URL("./box_opener_worker.ts", import.meta.url), {
      type: "module",
    });
    started.onmessage = ({ data }: MessageEvent<OpenAnswer | OpenRunAnswer>) => {
      if ("pieces" in data) return answerRun(data);
      const job = waiting.get(data.seq);
      waiting.delete(data.seq);
      if ("bytes" in data) return job?.resolve({ id: data.id, bytes: data.bytes });
      job?.reject(errorOf(data.error));
    };
    started.onerror = (event) => {
      event.preventDefault();
      fail(new TcfsError(`the decrypting thread failed: ${event.message}`, { hint: BUG_HINT }));
    };
    const sent: OpenerKeys = {
      epoch: keys.epoch,
      keys: keys.epochs.flatMap((e) => {
        const key = keys.sealKey(e);
        return key ? [[e, key] as [number, SealKey]] : [];
      }),
    };
    started.postMessage(sent);
    return started;
  }

  function answerRun({ seq, first, raw, pieces }: OpenRunAnswer): void {
    const answers = waitingRuns.get(seq);
    if (!answers) return;
    for (const [i, piece] of pieces.entries()) {
      answers[first + i].resolve(
        Array.isArray(piece)
          ? { id: piece[0], bytes: raw.subarray(piece[1], piece[1] + piece[2]) }
          : errorOf(piece),
      );
    }
    if (first + pieces.length === answers.length) waitingRuns.delete(seq);
  }

  return {
    open(stored, place, idKey) {
      if (failure) return Promise.reject(failure);
      if ((!worker && openedInPlace < offloadAfter) || stored.length < IN_PLACE_BELOW_BYTES) {
        openedInPlace += stored.length;
        return openChunk(keys, stored, place, idKey);
      }
      worker ??= startWorker();
      // A copy moves to the worker: `stored` is often a slice of a range its neighbours share.
      const job: OpenJob = { seq: ++seq, sealed: stored.slice(), place, idKey };
      const answer = Promise.withResolvers<HashedChunk>();
      waiting.set(job.seq, answer);
      worker.postMessage(job, [job.sealed.buffer]);
      return answer.promise;
    },
    offloadsFor(bytes) {
      return worker !== undefined || openedInPlace + bytes >= offloadAfter;
    },
    openRun(run, slices) {
      if (failure) return slices.map(() => Promise.reject(failure));
      if (slices.length === 0) return [];
      worker ??= startWorker();
      const idKeys: Uint8Array[] = [];
      const keyIndex = (idKey?: Uint8Array) => {
        if (!idKey) return -1;
        const known = idKeys.indexOf(idKey);
        return known >= 0 ? known : idKeys.push(idKey) - 1;
      };
      const whole = run.byteOffset === 0 && run.byteLength === run.buffer.byteLength;
      const job: OpenRunJob = {
        seq: ++seq,
        run: whole ? run as Uint8Array<ArrayBuffer> : run.slice(),
        slices: slices.map((s) => [s.at, s.length, s.place, keyIndex(s.idKey)]),
        idKeys,
      };
      const answers = slices.map(() => Promise.withResolvers<OpenedSlice>());
      waitingRuns.set(job.seq, answers);
      worker.postMessage(job, [job.run.buffer]);
      return answers.map((answer) => answer.promise);
    },
    [Symbol.dispose]() {
      fail(new TcfsError("the box opener is closed: its pull has ended"));
      worker = undefined;
      offloadAfter = Infinity;
    },
  };
}

function errorOf({ message, kind, hint }: OpenFailure): TcfsError {
  return new TcfsError(message, { kind, hint });
}

/**
 * What {@linkcode BoxOpener.open} returns, on the calling thread: the raw chunk inside `stored`
 * and its id. For the opener's worker and its work in place.
 *
 * @example
 * ```ts
 * const { id, bytes } = await openChunk(ctx.keys, sealed, ref.id, idKey);
 * ```
 */
export async function openChunk(
  keys: FleetKeys | undefined,
  stored: Uint8Array,
  place: string,
  idKey: Uint8Array | undefined,
): Promise<HashedChunk> {
  const unsealed = await unsealStored(keys, stored, place);
  const raw = await decodeChunk(unsealed);
  // An opened box is a buffer of its own (sealed_box.ts): once inflated, nothing reads it.
  if (unsealed !== stored && raw.buffer !== unsealed.buffer) releaseBuffer(unsealed);
  return { id: await blake3Hex(raw, idKey), bytes: raw };
}
