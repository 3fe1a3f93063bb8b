/**
 * Opens a pull's sealed chunks, decodes and hashes them on a thread of its own. Deno's WebCrypto
 * decrypts on the calling thread (256 queued 1 MiB decrypts left the event loop 3 turns in
 * 1.3 s), and a pull's main thread already reads and writes: opening every box there made a
 * sealed 1 GiB pull 1.5× a plaintext one. The thread that opens a chunk also decodes it and
 * computes its id, so that a sealed pull runs one worker (an isolate and its allocator arena,
 * some 35 MB of RSS each) instead of this one and the chunk hasher's, and each chunk crosses
 * between threads twice instead of four times. Like the hasher, the opener works in place until
 * a pull has opened {@linkcode OFFLOAD_AFTER_BYTES}, so a small pull starts no thread, and small
 * boxes are always opened in place, where they cost less than the messages would.
 *
 * @module
 */

import type { FleetKeys, SealKey } from "./fleet_keys.ts";
import { unsealStored } from "./sealed_object.ts";
import type { OpenAnswer, OpenerKeys, OpenJob } from "./box_opener_worker.ts";
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
export function createBoxOpener(keys: FleetKeys): BoxOpener {
  const waiting = new Map<number, PromiseWithResolvers<HashedChunk>>();
  let worker: Worker | undefined;
  let openedInPlace = 0;
  let offloadAfter = navigator.hardwareConcurrency > 1 ? OFFLOAD_AFTER_BYTES : Infinity;
  let failure: Error | undefined;
  let seq = 0;

  function fail(err: Error): void {
    failure ??= err;
    for (const job of waiting.values()) job.reject(failure);
    waiting.clear();
    worker?.terminate();
  }

  function startWorker(): Worker {
    const started = new Worker(new URL("./box_opener_worker.ts", import.meta.url), {
      type: "module",
    });
    started.onmessage = ({ data }: MessageEvent<OpenAnswer>) => {
      const job = waiting.get(data.seq);
      waiting.delete(data.seq);
      if ("bytes" in data) return job?.resolve({ id: data.id, bytes: data.bytes });
      const { message, kind, hint } = data.error;
      job?.reject(new TcfsError(message, { kind, hint }));
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

  return {
    open(stored, place, idKey) {
      if (failure) return Promise.reject(failure);
      if ((!worker && openedInPlace <= offloadAfter) || stored.length < IN_PLACE_BELOW_BYTES) {
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
    [Symbol.dispose]() {
      fail(new TcfsError("the box opener is closed: its pull has ended"));
      worker = undefined;
      offloadAfter = Infinity;
    },
  };
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
