/**
 * Sealed stored objects: the chunk codec's format byte `0x02` (`chunk_codec.ts`), then a sealed
 * box (`sealed_box.ts`) holding the plaintext stored form (its own format byte and payload). So a
 * sealed chunk or journal object is compressed first, then encrypted, and every reader that
 * already understands formats `0x00` and `0x01` needs only to open the box first.
 *
 * @module
 */

import { CHUNK_FORMAT_SEALED } from "../chunking/chunk_codec.ts";
import type { FleetKeys } from "./fleet_keys.ts";
import { boxEpoch, openBytes, sealBytes, SEALED_OVERHEAD, type SealedPlace } from "./sealed_box.ts";
import { TcfsError } from "../errors.ts";

/**
 * The box of a stored form, without the leading format byte: what a pack writer lays after
 * `CHUNK_FORMAT_SEALED`.
 *
 * @example
 * ```ts
 * const box = await sealStoredForm(keys, CHUNK_FORMAT_ZSTD, frame, chunkId);
 * ```
 */
export function sealStoredForm(
  keys: FleetKeys,
  format: number,
  payload: Uint8Array,
  place: SealedPlace,
): Promise<Uint8Array<ArrayBuffer>> {
  return sealBytes(keys, [Uint8Array.of(format), payload], place);
}

/**
 * A whole sealed object: `CHUNK_FORMAT_SEALED`, then the box of `stored`.
 *
 * @example
 * ```ts
 * await store.put(key, await sealStored(keys, encodeChunk(json, { always: true }), key));
 * ```
 */
export async function sealStored(
  keys: FleetKeys,
  stored: Uint8Array,
  place: SealedPlace,
): Promise<Uint8Array<ArrayBuffer>> {
  const sealed = await sealBytes(keys, stored, place, 1);
  sealed[0] = CHUNK_FORMAT_SEALED;
  return sealed;
}

/** True when `stored` is a sealed object. */
export function isSealed(stored: Uint8Array): boolean {
  return stored[0] === CHUNK_FORMAT_SEALED;
}

/**
 * The key epoch `stored` is sealed with: 0 when it is plaintext, `undefined` when it is too
 * short to be a sealed object. The first {@linkcode SEALED_HEAD_BYTES} bytes are enough.
 *
 * @example
 * ```ts
 * const head = await store.getRange(key, offset, SEALED_HEAD_BYTES);
 * if (sealedEpoch(head) !== keys.epoch) outdated.push(key);
 * ```
 */
export function sealedEpoch(stored: Uint8Array): number | undefined {
  return isSealed(stored) ? boxEpoch(stored.subarray(1)) : 0;
}

/** How many leading bytes of a stored object {@linkcode sealedEpoch} reads. */
export const SEALED_HEAD_BYTES = 1 + SEALED_OVERHEAD;

/**
 * The plaintext stored form inside a sealed object; `stored` itself when it is not sealed.
 *
 * @throws {TcfsError} `not_approved` when it is sealed and `keys` is absent or lacks its epoch;
 *   `sealed_damaged` when it fails authentication for `place`, or holds another sealed form.
 *
 * @example
 * ```ts
 * const raw = await decodeChunk(await unsealStored(ctx.keys, stored, ref.id));
 * ```
 */
export async function unsealStored(
  keys: FleetKeys | undefined,
  stored: Uint8Array,
  place: SealedPlace,
): Promise<Uint8Array> {
  if (!isSealed(stored)) return stored;
  if (!keys) {
    throw new TcfsError(`${place} is end-to-end encrypted, and this device holds no fleet key`, {
      kind: "not_approved",
      hint: "run `tcfs device approve <this device>` on an approved device (see `tcfs creds " +
        "status`), or `tcfs device enroll --recovery` with the fleet's recovery passphrase",
    });
  }
  const inner = await openBytes(keys, stored.subarray(1), place);
  if (isSealed(inner)) {
    throw new TcfsError(`the sealed data at ${place} holds another sealed box`, {
      kind: "sealed_damaged",
      hint: "it was not written by tcfs; push the file again from a device with a good copy",
    });
  }
  return inner;
}
