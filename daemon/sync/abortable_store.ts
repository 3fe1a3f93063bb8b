/**
 * A store whose calls fail at once when the daemon must stop. Aborting makes a transfer in
 * flight fail at its next request, and a failed restore removes its temp file, so a shutdown
 * that can't wait for a big file still leaves nothing half-written.
 *
 * @module
 */

import { TcfsError } from "../../core/errors.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";

/**
 * Wraps `store` so every call rejects once `signal` aborts (calls in progress included).
 *
 * @example
 * ```ts
 * const shutdown = new AbortController();
 * const store = abortableStore(await openConfiguredStore(config, credentials), shutdown.signal);
 * shutdown.abort(); // pending and later calls now fail with kind "daemon_stopping"
 * ```
 */
export function abortableStore(store: ObjectStore, signal: AbortSignal): ObjectStore {
  const stopped = () =>
    new TcfsError("the daemon is stopping", {
      kind: "daemon_stopping",
      hint: "the operation will be retried when the daemon starts again",
    });
  const guard = <T>(call: () => Promise<T>): Promise<T> => {
    if (signal.aborted) return Promise.reject(stopped());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(stopped());
      signal.addEventListener("abort", onAbort, { once: true });
      call().then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  };
  return {
    location: store.location,
    ensureReady: () => guard(() => store.ensureReady()),
    get: (key, options) => guard(() => store.get(key, options)),
    getRange: (key, offset, length) => guard(() => store.getRange(key, offset, length)),
    getWithEtag: (key, options) => guard(() => store.getWithEtag(key, options)),
    put: (key, body, options) => guard(() => store.put(key, body, options)),
    putConditional: (key, body, condition) =>
      guard(() => store.putConditional(key, body, condition)),
    has: (key) => guard(() => store.has(key)),
    async *list(prefix, options) {
      for await (const info of store.list(prefix, options)) {
        if (signal.aborted) throw stopped();
        yield info;
      }
    },
    delete: (key) => guard(() => store.delete(key)),
    close: () => store.close(),
  };
}
