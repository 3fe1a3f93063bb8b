/**
 * Telling "the store could not be reached" apart from every other failure: the one case where a
 * device may go on with what it read last (the keychain, the revocations, the folded heads), as
 * a laptop without a network must.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";

/**
 * Whether `err` says that the store did not answer (after the retries of `retrying_store.ts`).
 *
 * @example
 * ```ts
 * try { await store.has(key); } catch (err) { if (!isStoreUnreachable(err)) throw err; }
 * ```
 */
export function isStoreUnreachable(err: unknown): boolean {
  return err instanceof TcfsError && err.kind === "store_unreachable";
}
