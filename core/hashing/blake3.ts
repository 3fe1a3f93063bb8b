/**
 * BLAKE3 (256-bit, lowercase hex) for chunk ids and whole-file hashes, on hash-wasm.
 *
 * Instantiating the WASM module costs more than hashing a small chunk, so hashers are
 * pooled: a finished hasher's instance serves the next one. Each live hasher owns its
 * instance, so concurrent async hashing never interleaves updates.
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
const idleInstances: IHasher[] = [];

async function acquireInstance(): Promise<IHasher> {
  return (idleInstances.pop() ?? await createBLAKE3()).init();
}

function releaseInstance(instance: IHasher): void {
  if (idleInstances.length < MAX_IDLE_INSTANCES) idleInstances.push(instance);
}

/**
 * Returns the BLAKE3 hash of `bytes` as 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * const id = await blake3Hex(new TextEncoder().encode("abc"));
 * // "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
 * ```
 */
export async function blake3Hex(bytes: Uint8Array): Promise<string> {
  // One instance serves every one-shot hash: init, update and digest run without an await
  // between them, so no two hashes interleave. A pooled instance per call made a push of
  // 10,000 small files instantiate the module some thousands of times (0.6 s), when a thousand
  // version names were hashed at once.
  const instance = await (oneShot ??= createBLAKE3());
  instance.init();
  instance.update(bytes);
  return instance.digest("hex");
}

let oneShot: Promise<IHasher> | undefined;

/**
 * Creates an incremental BLAKE3 hasher, for hashing a file as it streams past.
 *
 * @example
 * ```ts
 * const hasher = await createBlake3Hasher();
 * using file = await Deno.open("report.pdf");
 * for await (const piece of file.readable) hasher.update(piece);
 * console.log(hasher.digestHex());
 * ```
 */
export async function createBlake3Hasher(): Promise<Blake3Hasher> {
  let instance: IHasher | undefined = await acquireInstance();
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
      releaseInstance(finished);
      return hex;
    },
  };
}
