/**
 * The worker side of {@linkcode createBoxOpener} (box_opener.ts): opens each sealed stored form
 * it is sent with the fleet keys it was given first, and sends back the plaintext stored form
 * or what failed. Loaded only as a Worker.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { FleetKeys, SealKey } from "./fleet_keys.ts";
import { unsealStored } from "./sealed_object.ts";
import { TcfsError } from "../errors.ts";

/** The keys, sent once before any job: CryptoKeys cross to a worker as they are. */
export interface OpenerKeys {
  epoch: number;
  keys: [number, SealKey][];
}

/** A sealed stored form to open for `place`. */
export interface OpenJob {
  seq: number;
  sealed: Uint8Array<ArrayBuffer>;
  place: string;
}

/** A finished {@linkcode OpenJob}: the plaintext stored form, or the error to throw. */
export type OpenAnswer =
  | { seq: number; stored: Uint8Array<ArrayBuffer> }
  | { seq: number; error: { message: string; kind?: TcfsError["kind"]; hint?: string } };

let keys: FleetKeys | undefined;

self.onmessage = async ({ data }: MessageEvent<OpenerKeys | OpenJob>) => {
  if (!("seq" in data)) {
    const byEpoch = new Map(data.keys);
    // Opening needs only the AEAD keys; the id key stays with the thread that hashes.
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
    const stored = await unsealStored(keys, data.sealed, data.place);
    answer = { seq: data.seq, stored: stored.slice() };
  } catch (err) {
    answer = {
      seq: data.seq,
      error: err instanceof TcfsError
        ? { message: err.message, kind: err.kind, hint: err.hint }
        : { message: err instanceof Error ? err.message : String(err) },
    };
  }
  self.postMessage(answer, "stored" in answer ? [answer.stored.buffer] : []);
};
