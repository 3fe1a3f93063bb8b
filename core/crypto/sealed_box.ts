/**
 * The sealed form of anything tcfs encrypts (chunks, journal objects, events):
 *
 * | bytes  | what                                                             |
 * |--------|------------------------------------------------------------------|
 * | 4      | the key epoch, big-endian                                        |
 * | 12     | a random nonce                                                   |
 * | n + 16 | AES-256-GCM ciphertext of the n plaintext bytes, then its tag    |
 *
 * The associated data names what the box is (a chunk's id, an object's key, an event's
 * subject), so a box moved to another place fails to open rather than passing for the thing it
 * was moved over. AES-256-GCM (WebCrypto for large boxes, node:crypto for small ones) was
 * chosen over XChaCha20-Poly1305 from `@noble/ciphers` by measurement (docs/SECURITY.md): 360
 * against 97 MB/s on 1 MiB chunks.
 * Random 96-bit nonces bound one epoch's key to some 2^32 boxes, far beyond a fleet's packs.
 *
 * @module
 */

import { createCipheriv, createDecipheriv } from "node:crypto";
import type { FleetKeys } from "./fleet_keys.ts";
import { TcfsError } from "../errors.ts";
import { concatBytes } from "../encoding/concat_bytes.ts";

const EPOCH_BYTES = 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Boxes of less plaintext than this are sealed and opened with node:crypto's AES-GCM, on the
 * calling thread and without awaiting: ~15 µs a box against WebCrypto's ~45 µs, which is
 * mostly the cost of the call itself, and a small file's chunk is such a box. Larger ones go
 * through WebCrypto, two to three times faster per byte (~400 against ~150 MB/s here). Both
 * make the same AES-256-GCM boxes, so either opens what the other sealed.
 */
export const SMALL_BOX_BYTES = 16 * 1024;

/** Bytes a sealed box adds to its plaintext. */
export const SEALED_OVERHEAD = EPOCH_BYTES + NONCE_BYTES + TAG_BYTES;

/** What a box's associated data binds it to: a chunk id, a store key, an event subject. */
export type SealedPlace = string;

/** Encodes associated data: one encoder for every box rather than one a box. */
const placeBytes = new TextEncoder();

/**
 * Seals `plain` with the fleet's current epoch, bound to `place`. `plain` may be given as
 * pieces, sealed as if put together, so a caller need not join them first; `lead` bytes are
 * left free before the box for the caller to fill, so a caller need not copy the box to prefix
 * it.
 *
 * @example
 * ```ts
 * const box = await sealBytes(keys, bytes, "ns/default/j/…/0000000000000001.seg");
 * const formed = await sealBytes(keys, [Uint8Array.of(format), payload], chunkId, 1);
 * ```
 */
export async function sealBytes(
  keys: FleetKeys,
  plain: Uint8Array | readonly Uint8Array[],
  place: SealedPlace,
  lead = 0,
): Promise<Uint8Array<ArrayBuffer>> {
  const pieces = plain instanceof Uint8Array ? [plain] : plain;
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const key = keys.sealKey(keys.epoch)!;
  const box = new Uint8Array(lead + EPOCH_BYTES + NONCE_BYTES + length + TAG_BYTES);
  new DataView(box.buffer).setUint32(lead, keys.epoch);
  const nonceAt = lead + EPOCH_BYTES;
  const nonce = crypto.getRandomValues(box.subarray(nonceAt, nonceAt + NONCE_BYTES));
  const aad = placeBytes.encode(place);
  let sealedAt = nonceAt + NONCE_BYTES;
  if (length < SMALL_BOX_BYTES) {
    const cipher = createCipheriv("aes-256-gcm", key.raw, nonce).setAAD(aad);
    for (const piece of pieces) {
      const body = cipher.update(piece);
      box.set(body, sealedAt);
      sealedAt += body.length;
    }
    const last = cipher.final();
    box.set(last, sealedAt);
    box.set(cipher.getAuthTag(), sealedAt + last.length);
    return box;
  }
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: aad },
    key.subtle,
    (pieces.length === 1 ? pieces[0] : concatBytes(pieces)) as Uint8Array<ArrayBuffer>,
  );
  box.set(new Uint8Array(sealed), sealedAt);
  return box;
}

/** A box sealed a piece of plaintext at a time: {@linkcode boxSealer}. */
export interface BoxSealer {
  /** The box's first bytes: its epoch and nonce. */
  readonly head: Uint8Array;
  /** Seals the next piece of plaintext; returns its ciphertext. */
  update(plain: Uint8Array): Uint8Array;
  /** The ciphertext's last bytes and the tag, which end the box. */
  final(): Uint8Array;
}

/**
 * Seals plaintext given in pieces into the box {@linkcode sealBytes} makes of the pieces put
 * together (`head`, every `update`'s output, then `final`), so that plaintext too big to hold
 * twice need not be held whole: AES-GCM encrypts a stream.
 *
 * @example
 * ```ts
 * const sealer = boxSealer(keys, key);
 * const box = concatBytes([sealer.head, sealer.update(a), sealer.update(b), sealer.final()]);
 * ```
 */
export function boxSealer(keys: FleetKeys, place: SealedPlace): BoxSealer {
  const key = keys.sealKey(keys.epoch)!;
  const head = new Uint8Array(EPOCH_BYTES + NONCE_BYTES);
  new DataView(head.buffer).setUint32(0, keys.epoch);
  const nonce = crypto.getRandomValues(head.subarray(EPOCH_BYTES));
  const cipher = createCipheriv("aes-256-gcm", key.raw, nonce).setAAD(placeBytes.encode(place));
  return {
    head,
    update: (plain) => cipher.update(plain),
    final: () => {
      const last = cipher.final();
      const end = new Uint8Array(last.length + TAG_BYTES);
      end.set(last);
      end.set(cipher.getAuthTag(), last.length);
      return end;
    },
  };
}

/**
 * Opens a box made by {@linkcode sealBytes} for `place`. Throws a {@linkcode TcfsError}:
 * `not_approved` when the box's epoch is one these keys lack, `sealed_damaged` when the box
 * is truncated, altered, or belongs somewhere else.
 *
 * @example
 * ```ts
 * const bytes = await openBytes(keys, box, "ns/default/j/…/0000000000000001.seg");
 * ```
 */
export async function openBytes(
  keys: FleetKeys,
  box: Uint8Array,
  place: SealedPlace,
): Promise<Uint8Array> {
  if (box.length < SEALED_OVERHEAD) {
    throw sealedDamaged(place, `${box.length} bytes is shorter than a sealed box`);
  }
  const epoch = new DataView(box.buffer, box.byteOffset, box.byteLength).getUint32(0);
  const key = keys.sealKey(epoch);
  if (!key) throw epochMissing(place, epoch, keys.epoch);
  const nonce = box.subarray(EPOCH_BYTES, EPOCH_BYTES + NONCE_BYTES);
  const aad = placeBytes.encode(place);
  const sealed = box.subarray(EPOCH_BYTES + NONCE_BYTES);
  try {
    if (sealed.length - TAG_BYTES < SMALL_BOX_BYTES) {
      const tagAt = sealed.length - TAG_BYTES;
      const decipher = createDecipheriv("aes-256-gcm", key.raw, nonce)
        .setAAD(aad)
        .setAuthTag(sealed.subarray(tagAt));
      const plain = new Uint8Array(tagAt);
      const body = decipher.update(sealed.subarray(0, tagAt));
      plain.set(body);
      plain.set(decipher.final(), body.length);
      return plain;
    }
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer>, additionalData: aad },
        key.subtle,
        sealed as Uint8Array<ArrayBuffer>,
      ),
    );
  } catch (err) {
    throw sealedDamaged(place, "it fails authentication (altered, truncated or moved)", err);
  }
}

/** The epoch a box was sealed with, read without opening it. */
export function boxEpoch(box: Uint8Array): number | undefined {
  return box.length < SEALED_OVERHEAD
    ? undefined
    : new DataView(box.buffer, box.byteOffset, box.byteLength).getUint32(0);
}

function sealedDamaged(place: string, why: string, cause?: unknown): TcfsError {
  return new TcfsError(`the sealed data at ${place} cannot be opened: ${why}`, {
    kind: "sealed_damaged",
    hint: "the stored object was damaged or replaced; nothing was written from it. " +
      "Push the file again from a device that has a good copy, or run tcfs check",
    cause,
  });
}

function epochMissing(place: string, epoch: number, held: number): TcfsError {
  return new TcfsError(
    `${place} is sealed with key epoch ${epoch}, which this device does not hold ` +
      `(it holds epochs up to ${held})`,
    {
      kind: "not_approved",
      hint: "this device was revoked or not yet approved for that epoch: run " +
        "`tcfs device approve <this device>` on an approved device, then try again",
    },
  );
}
