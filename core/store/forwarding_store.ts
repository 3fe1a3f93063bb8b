/**
 * The base of a store decorator that changes a few methods: every method forwarded to the store
 * it wraps, in one place, for the decorator to spread and then override.
 *
 * @module
 */

import type { ObjectStore } from "./object_store.ts";

/**
 * An {@linkcode ObjectStore} whose every method calls `store`'s.
 *
 * @example
 * ```ts
 * const counting: ObjectStore = {
 *   ...forwardingStore(store),
 *   get: (key, options) => (gets++, store.get(key, options)),
 * };
 * ```
 */
export function forwardingStore(store: ObjectStore): ObjectStore {
  return {
    location: store.location,
    ensureReady: () => store.ensureReady(),
    get: (key, options) => store.get(key, options),
    getRange: (key, offset, length) => store.getRange(key, offset, length),
    getWithEtag: (key, options) => store.getWithEtag(key, options),
    put: (key, body, options) => store.put(key, body, options),
    putConditional: (key, body, condition) => store.putConditional(key, body, condition),
    has: (key) => store.has(key),
    list: (prefix, options) => store.list(prefix, options),
    delete: (key) => store.delete(key),
    close: () => store.close(),
  };
}
