/**
 * Opens a pull's sealed chunks on a thread of its own. Deno's WebCrypto decrypts on the calling
 * thread (256 queued 1 MiB decrypts left the event loop 3 turns in 1.3 s), and a pull's main
 * thread already reads, decodes and writes while the chunk hasher's worker hashes: opening every
 * box there made a sealed 1 GiB pull 1.5× a plaintext one. Like the hasher, the opener works in
 * place until a pull has opened {@linkcode OFFLOAD_AFTER_BYTES}, so a small pull starts no thread,
 * and small boxes are always opened in place, where they cost less than the messages would.
 *
 * @module
 */

import type { FleetKeys, SealKey } from "./fleet_keys.ts";
import { unsealStored } from "./sealed_object.ts";
import type { OpenAnswer, OpenerKeys, OpenJob } from "./box_opener_worker.ts";
import { IN_PLACE_BELOW_BYTES, OFFLOAD_AFTER_BYTES } from "../hashing/chunk_hasher.ts";
import { BUG_HINT, TcfsError } from "../errors.ts";

/** Opens sealed stored forms, as `unsealStored` does; dispose of it at the end of the pull. */
export interface BoxOpener extends Disposable {
  /** The plaintext stored form inside `stored` (returned as is when it is not sealed). */
  open(stored: Uint8Array, place: string): Promise<Uint8Array>;
}

/**
 * Creates the opener for one pull.
 *
 * @example
 * ```ts
 * using opener = createBoxOpener(ctx.keys);
 * const stored = await opener.open(sealed, ref.id);
 * ```
 */
export function createBoxOpener(keys: FleetKeys): BoxOpener {
  const waiting = new Map<number, PromiseWithResolvers<Uint8Array>>();
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
      if ("stored" in data) return job?.resolve(data.stored);
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
    open(stored, place) {
      if (failure) return Promise.reject(failure);
      if ((!worker && openedInPlace <= offloadAfter) || stored.length < IN_PLACE_BELOW_BYTES) {
        openedInPlace += stored.length;
        return unsealStored(keys, stored, place);
      }
      worker ??= startWorker();
      // A copy moves to the worker: `stored` is often a slice of a range its neighbours share.
      const job: OpenJob = { seq: ++seq, sealed: stored.slice(), place };
      const answer = Promise.withResolvers<Uint8Array>();
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
