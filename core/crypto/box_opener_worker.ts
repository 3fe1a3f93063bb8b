/**
 * The worker side of {@linkcode createBoxOpener} (box_opener.ts): opens each sealed stored form
 * it is sent with the fleet keys it was given first, decodes it and hashes the raw chunk, and
 * sends back the raw bytes and their id, or what failed. Loaded only as a Worker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { FleetKeys, SealKey } from "./fleet_keys.ts";
import { openChunk } from "./box_opener.ts";
import { releaseBuffer } from "../runtime/released_buffer.ts";
import { TcfsError } from "../errors.ts";

/** The keys, sent once before any job: CryptoKeys cross to a worker as they are. */
export interface OpenerKeys {
  epoch: number;
  keys: [number, SealKey][];
}

/** A sealed stored form to open for `place`, and the key of its id (plain BLAKE3 without). */
export interface OpenJob {
  seq: number;
  sealed: Uint8Array<ArrayBuffer>;
  place: string;
  idKey?: Uint8Array;
}

/** A finished {@linkcode OpenJob}: the raw chunk and its id, or the error to throw. */
export type OpenAnswer =
  | { seq: number; id: string; bytes: Uint8Array<ArrayBuffer> }
  | { seq: number; error: { message: string; kind?: TcfsError["kind"]; hint?: string } };

let keys: FleetKeys | undefined;

self.onmessage = async ({ data }: MessageEvent<OpenerKeys | OpenJob>) => {
  if (!("seq" in data)) {
    const byEpoch = new Map(data.keys);
    // Opening needs only the AEAD keys; each job brings the key of its id.
    keys = {
      epoch: data.epoch,
      sealKey: (e) => byEpoch.get(e),
      epochs: [...byEpoch.keys()],
      idKey: new Uint8Array(32),
    };
    return;
  }
  let answer: OpenAnswer;
  try {
    const { id, bytes } = await openChunk(keys, data.sealed, data.place, data.idKey);
    answer = { seq: data.seq, id, bytes: bytes as Uint8Array<ArrayBuffer> };
  } catch (err) {
    answer = {
      seq: data.seq,
      error: err instanceof TcfsError
        ? { message: err.message, kind: err.kind, hint: err.hint }
        : { message: err instanceof Error ? err.message : String(err) },
    };
  }
  // The sealed copy is this thread's alone (box_opener.ts made it to send), and nothing reads it
  // again: freed now, not when this isolate next collects, which it does rarely (it allocates
  // little on its heap), so that every chunk it opened stayed resident until then (~40 MB on a
  // pull of large files). Unless the raw chunk lies in it (a stored form sent unsealed).
  if (!("bytes" in answer) || answer.bytes.buffer !== data.sealed.buffer) {
    releaseBuffer(data.sealed);
  }
  // The raw chunk's buffer is the decrypted box's or zstd's output, which holds nothing else (a
  // byte more at most): it moves whole, and the view keeps its offset and length.
  self.postMessage(answer, "bytes" in answer ? [answer.bytes.buffer] : []);
};
