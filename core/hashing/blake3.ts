/**
 * BLAKE3 (256-bit, lowercase hex) for chunk ids and whole-file hashes, on hash-wasm, plain or
 * keyed: a sealed namespace's chunk ids are BLAKE3 keyed with the fleet's id key, which only
 * its devices hold.
 *
 * Instantiating the WASM module costs more than hashing a small chunk, so hashers are
 * pooled, per key: a finished hasher's instance serves the next one with the same key. Each
 * live hasher owns its instance, so concurrent async hashing never interleaves updates.
 *
 * @module
 */

import { createBLAKE3, type IHasher } from "hash-wasm";

/** An incremental BLAKE3 hasher; usable until {@linkcode Blake3Hasher.digestHex}. */
export interface Blake3Hasher {
  /** Feeds the next bytes. */
  update(bytes: Uint8Array): void;
  /** Returns the hash of everything fed so far and ends this hasher. */
  digestHex(): string;
}

/** Enough idle instances for the concurrent hashers of a busy push; the rest are dropped. */
const MAX_IDLE_INSTANCES = 16;

/** The instances of one key (or of none), which re-initialise with that key. */
interface InstancePool {
  create(): Promise<IHasher>;
  idle: IHasher[];
  /** The instance every one-shot hash of this key uses. */
  oneShot?: Promise<IHasher>;
}

const plainPool: InstancePool = { create: () => createBLAKE3(), idle: [] };

/**
 * Pools of keyed instances, by key. A device holds one id key per fleet; a few more pools
 * cover a key read again (a new keychain object with the same bytes shares its pool).
 */
const keyedPools = new Map<string, InstancePool>();
const MAX_KEYED_POOLS = 4;
const keyNames = new WeakMap<Uint8Array, string>();

function poolOf(key: Uint8Array | undefined): InstancePool {
  if (key === undefined) return plainPool;
  let name = keyNames.get(key);
  if (name === undefined) {
    name = Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
    keyNames.set(key, name);
  }
  let pool = keyedPools.get(name);
  if (!pool) {
    const copy = key.slice();
    pool = { create: () => createBLAKE3(256, copy), idle: [] };
    keyedPools.set(name, pool);
    if (keyedPools.size > MAX_KEYED_POOLS) keyedPools.delete(keyedPools.keys().next().value!);
  }
  return pool;
}

/**
 * Returns the BLAKE3 hash of `bytes` as 64 lowercase hex digits, keyed with `key` (32 bytes)
 * when one is given.
 *
 * @example
 * ```ts
 * const id = await blake3Hex(new TextEncoder().encode("abc"));
 * // "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
 * const keyedId = await blake3Hex(new TextEncoder().encode("abc"), keys.idKey);
 * ```
 */
export async function blake3Hex(bytes: Uint8Array, key?: Uint8Array): Promise<string> {
  return (await blake3HexFunction(key))(bytes);
}

/**
 * A one-shot BLAKE3 (hex, keyed with `key` when one is given) that hashes without awaiting:
 * for work that must not yield between many small hashes, such as a fold inside one
 * transaction.
 *
 * @example
 * ```ts
 * const hex = await blake3HexFunction();
 * hex(new TextEncoder().encode("abc")); // "6437b3ac…"
 * ```
 */
export async function blake3HexFunction(key?: Uint8Array): Promise<(bytes: Uint8Array) => string> {
  // One instance per key serves every one-shot hash: init, update and digest run without an
  // await between them, so no two hashes interleave. A pooled instance per call made a push of
  // 10,000 small files instantiate the module some thousands of times (0.6 s), when a thousand
  // version names were hashed at once.
  const pool = poolOf(key);
  const instance = await (pool.oneShot ??= pool.create());
  return (bytes) => {
    instance.init();
    instance.update(bytes);
    return instance.digest("hex");
  };
}

/**
 * Creates an incremental BLAKE3 hasher, for hashing a file as it streams past; keyed with
 * `key` (32 bytes) when one is given.
 *
 * @example
 * ```ts
 * const hasher = await createBlake3Hasher();
 * using file = await Deno.open("report.pdf");
 * for await (const piece of file.readable) hasher.update(piece);
 * console.log(hasher.digestHex());
 * ```
 */
export async function createBlake3Hasher(key?: Uint8Array): Promise<Blake3Hasher> {
  const pool = poolOf(key);
  let instance: IHasher | undefined = (pool.idle.pop() ?? await pool.create()).init();
  const live = (): IHasher => {
    if (instance === undefined) throw new Error("BLAKE3 hasher used after digestHex()");
    return instance;
  };
  return {
    update(bytes) {
      live().update(bytes);
    },
    digestHex() {
      const finished = live();
      instance = undefined;
      const hex = finished.digest("hex");
      if (pool.idle.length < MAX_IDLE_INSTANCES) pool.idle.push(finished);
      return hex;
    },
  };
}
