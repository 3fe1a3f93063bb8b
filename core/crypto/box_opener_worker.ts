/**
 * The worker side of {@linkcode createBoxOpener} (box_opener.ts): opens each sealed stored form
 * it is sent with the fleet keys it was given first, decodes it and hashes the raw chunk, and
 * sends back the raw bytes and their id, or what failed; or, for a run of a pack, does so for
 * each of its slices and sends back their raw bytes in one buffer. Loaded only as a Worker.
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

/** Why a box did not open, as it crosses back: a TcfsError's message, kind and hint. */
export interface OpenFailure {
  message: string;
  kind?: TcfsError["kind"];
  hint?: string;
}

/** A finished {@linkcode OpenJob}: the raw chunk and its id, or the error to throw. */
export type OpenAnswer =
  | { seq: number; id: string; bytes: Uint8Array<ArrayBuffer> }
  | { seq: number; error: OpenFailure };

/**
 * Part of a pack's run to open slice by slice: each slice is `[where it starts in run, its
 * length, its place, the index of its id's key in idKeys or -1 for plain BLAKE3]`.
 */
export interface OpenRunJob {
  seq: number;
  run: Uint8Array<ArrayBuffer>;
  slices: [number, number, string, number][];
  idKeys: Uint8Array[];
}

/**
 * Some of a {@linkcode OpenRunJob}'s slices opened, from its slice `first` on: their raw bytes
 * one after the other in `raw`, and for each slice in order its id with where its bytes lie in
 * `raw`, or why it did not open.
 */
export interface OpenRunAnswer {
  seq: number;
  first: number;
  raw: Uint8Array<ArrayBuffer>;
  pieces: ([string, number, number] | OpenFailure)[];
}

/**
 * A run's slices are answered this many at a time at most, or {@linkcode ANSWER_RAW_BYTES} of
 * raw bytes: a file whose chunk opens first need not wait for the run's last one.
 */
const ANSWER_SLICES = 32;
const ANSWER_RAW_BYTES = 256 * 1024;

let keys: FleetKeys | undefined;

self.onmessage = async ({ data }: MessageEvent<OpenerKeys | OpenJob | OpenRunJob>) => {
  if ("run" in data) return openRun(data);
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
    answer = { seq: data.seq, error: failureOf(err) };
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

/**
 * Opens each slice of a run, and sends their raw bytes back a few dozen slices at a time: a
 * message and a buffer for many small chunks, where a message each cost more than opening them.
 */
async function openRun({ seq, run, slices, idKeys }: OpenRunJob): Promise<void> {
  let first = 0;
  let opened: (Uint8Array | OpenFailure)[] = [];
  let ids: string[] = [];
  let rawBytes = 0;
  const answer = () => {
    const raw = new Uint8Array(rawBytes);
    let at = 0;
    const pieces = opened.map((piece, i): OpenRunAnswer["pieces"][number] => {
      if (!(piece instanceof Uint8Array)) return piece;
      const { length } = piece;
      raw.set(piece, at);
      releaseOpened(piece, run);
      at += length;
      return [ids[i], at - length, length];
    });
    const sent: OpenRunAnswer = { seq, first, raw, pieces };
    self.postMessage(sent, [raw.buffer]);
    first += opened.length;
    [opened, ids, rawBytes] = [[], [], 0];
  };
  for (const [at, length, place, key] of slices) {
    try {
      const { id, bytes } = await openChunk(
        keys,
        run.subarray(at, at + length),
        place,
        key < 0 ? undefined : idKeys[key],
      );
      ids.push(id);
      opened.push(bytes);
      rawBytes += bytes.length;
    } catch (err) {
      ids.push("");
      opened.push(failureOf(err));
    }
    if (opened.length >= ANSWER_SLICES || rawBytes >= ANSWER_RAW_BYTES) answer();
  }
  if (opened.length > 0) answer();
  releaseBuffer(run);
}

/**
 * Frees the buffer `piece` was opened into, now that it is copied out: the decrypted box or
 * zstd's output, of which it is all but a byte at either end (the stored form's format byte,
 * zstd's spare byte). This thread collects rarely, and they would stay resident until it did.
 * Never the run's own buffer (a stored form sent unsealed opens to a view of it), nor one shared
 * with other allocations (Node's pool of small Buffers, whose slabs are far larger than a piece).
 */
function releaseOpened(piece: Uint8Array, run: Uint8Array): void {
  const buffer = piece.buffer;
  if (buffer === run.buffer || !(buffer instanceof ArrayBuffer) || buffer.detached) return;
  if (piece.byteOffset > 1 || buffer.byteLength - piece.byteOffset - piece.byteLength > 1) return;
  buffer.transfer(0);
}

function failureOf(err: unknown): OpenFailure {
  return err instanceof TcfsError
    ? { message: err.message, kind: err.kind, hint: err.hint }
    : { message: err instanceof Error ? err.message : String(err) };
}
