/**
 * The fleet's keys as one device holds them in memory: one AES-256-GCM key per epoch, the
 * epoch new data is sealed with, and the key that makes chunk ids keyed BLAKE3. They come from
 * the newest keychain (`fleet_keychain.ts`) and are never written anywhere else.
 *
 * @module
 */

import { decodeBase64 } from "../encoding/base64.ts";
import type { FleetKeychain } from "./fleet_keychain.ts";
import { keyedBlake3 } from "../hashing/keyed_blake3.ts";

/**
 * One epoch's AES-256-GCM key in the two forms sealing uses: WebCrypto's for large boxes, the
 * raw bytes for small ones (`sealed_box.ts` says why).
 */
export interface SealKey {
  subtle: CryptoKey;
  raw: Uint8Array;
}

/** What sealing and opening need. */
export interface FleetKeys {
  /** The epoch every new pack, version and event is sealed with: the keychain's newest. */
  readonly epoch: number;
  /** The AEAD key of `epoch`, or `undefined` for an epoch this keychain does not hold. */
  sealKey(epoch: number): SealKey | undefined;
  /** The epochs whose keys {@linkcode FleetKeys.sealKey} gives. */
  readonly epochs: readonly number[];
  /** 32 bytes: chunk ids are BLAKE3 keyed with this, so the store cannot test for known content. */
  readonly idKey: Uint8Array;
  /**
   * Also accept plaintext journal objects. Set only while `tcfs store encrypt` folds a namespace
   * that was plaintext until now (`namespace_resealing.ts`); anywhere else a plaintext journal
   * object in a sealed namespace is refused, since whoever can write to the bucket could have
   * put it there.
   */
  readonly readsPlaintext?: boolean;
}

/** Context string of the chunk-id key's derivation: changing it changes every id. */
const ID_KEY_CONTEXT = new TextEncoder().encode("tcfs 2026-12 chunk id key");

/**
 * Imports a keychain's keys for use. The chunk-id key is derived from the keychain's root epoch
 * (the fleet's first key, or the one `tcfs store rekey` made), so it stays the same across
 * revocations and content keeps deduplicating.
 *
 * @example
 * ```ts
 * const keys = await fleetKeysOf(keychain);
 * keys.epoch; // 2
 * ```
 */
export async function fleetKeysOf(keychain: FleetKeychain): Promise<FleetKeys> {
  const imported = new Map<number, SealKey>();
  for (const [epoch, text] of Object.entries(keychain.keys)) {
    const raw = decodeBase64(text) as Uint8Array<ArrayBuffer>;
    const subtle = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    imported.set(Number(epoch), { subtle, raw });
  }
  const root = decodeBase64(keychain.keys[String(keychain.id_root)]);
  return {
    epoch: keychain.epoch,
    sealKey: (epoch) => imported.get(epoch),
    epochs: [...imported.keys()],
    idKey: await keyedBlake3(root, ID_KEY_CONTEXT),
  };
}
