/**
 * Picking up rotated credentials as a decorator, like `withRetry`: when the server refuses a
 * request (403, `store_forbidden`), the keys may just have been rotated, so the store is
 * reopened once with freshly loaded credentials and the request tried again. A second refusal
 * is the answer.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { compareKeys } from "./key_order.ts";
import type { ListOptions, ObjectInfo, ObjectStore } from "./object_store.ts";

/** What {@linkcode CredentialRefreshOptions.onRefresh} is told after each reopen. */
export interface CredentialRefreshInfo {
  /** The store method that was refused, e.g. `"put"`. */
  operation: string;
  /** Whether the store was reopened; when false, `error` says why not. */
  reopened: boolean;
  error?: unknown;
}

/** How {@linkcode withCredentialRefresh} reopens the store. */
export interface CredentialRefreshOptions {
  /**
   * Loads the credentials again (the whole chain) and opens a new store with them. It may
   * throw, e.g. when the SOPS file is being rewritten; the refusal then stands.
   */
  reopen: () => Promise<ObjectStore>;
  /**
   * A refusal within this long after the last reopen is not worth another one: the keys just
   * loaded are the newest there are. Default 10 s.
   */
  minReopenIntervalMs?: number;
  /** Called after each reopen attempt, for logs and metrics. */
  onRefresh?: (info: CredentialRefreshInfo) => void;
}

/** A store in use, and how many calls still run on it (it is closed when the last one ends). */
interface Generation {
  store: ObjectStore;
  inFlight: number;
  retired: boolean;
}

/**
 * Wraps a store so that a request refused with `store_forbidden` reloads the credentials once
 * (through `reopen`) and is retried on the new store. Concurrent refusals share one reopen; a
 * call that was refused by a store already replaced simply retries on the current one. The
 * replaced store is closed once no call uses it any more.
 *
 * A listing refused part-way resumes after the last key it yielded.
 *
 * @example
 * ```ts
 * const store = withCredentialRefresh(await openConfiguredStore(config, credentials), {
 *   reopen: async () =>
 *     openConfiguredStore(config, await resolveConfiguredCredentials(setup, false)),
 * });
 * await store.put("k", bytes); // survives a key rotation between two calls
 * ```
 */
export function withCredentialRefresh(
  initial: ObjectStore,
  opts: CredentialRefreshOptions,
): ObjectStore {
  const minIntervalMs = opts.minReopenIntervalMs ?? 10_000;
  let current: Generation = { store: initial, inFlight: 0, retired: false };
  let lastReopenAt = -Infinity;
  let reopening: Promise<void> | undefined;
  let closed = false;

  function acquire(): Generation {
    current.inFlight++;
    return current;
  }

  function release(generation: Generation): void {
    generation.inFlight--;
    if (generation.retired && generation.inFlight === 0) generation.store.close();
  }

  /** Replaces the current store, once for any number of callers refused by it. */
  function refresh(refused: Generation, operation: string): Promise<void> {
    if (refused !== current) return Promise.resolve();
    if (reopening) return reopening;
    if (performance.now() - lastReopenAt < minIntervalMs) {
      return Promise.reject(new Error("credentials were reloaded moments ago"));
    }
    reopening = (async () => {
      try {
        const store = await opts.reopen();
        if (closed) {
          store.close();
          return;
        }
        const previous = current;
        current = { store, inFlight: 0, retired: false };
        previous.retired = true;
        if (previous.inFlight === 0) previous.store.close();
        opts.onRefresh?.({ operation, reopened: true });
      } catch (err) {
        opts.onRefresh?.({ operation, reopened: false, error: err });
        throw err;
      } finally {
        lastReopenAt = performance.now();
        reopening = undefined;
      }
    })();
    return reopening;
  }

  async function call<T>(operation: string, run: (store: ObjectStore) => Promise<T>): Promise<T> {
    const first = acquire();
    try {
      return await run(first.store);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      try {
        await refresh(first, operation);
      } catch (reopenError) {
        throw stillRefused(err, reopenError);
      }
    } finally {
      release(first);
    }
    const second = acquire();
    try {
      return await run(second.store);
    } finally {
      release(second);
    }
  }

  return {
    get location() {
      return current.store.location;
    },
    ensureReady: () => call("ensureReady", (store) => store.ensureReady()),
    get: (key, options) => call("get", (store) => store.get(key, options)),
    getRange: (key, offset, length) =>
      call("getRange", (store) => store.getRange(key, offset, length)),
    getWithEtag: (key, options) => call("getWithEtag", (store) => store.getWithEtag(key, options)),
    put: (key, body, options) => call("put", (store) => store.put(key, body, options)),
    putConditional: (key, body, condition) =>
      call("putConditional", (store) => store.putConditional(key, body, condition)),
    has: (key) => call("has", (store) => store.has(key)),
    delete: (key) => call("delete", (store) => store.delete(key)),

    async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
      let last: string | undefined;
      for (let refreshed = false;; refreshed = true) {
        const generation = acquire();
        try {
          for await (const info of generation.store.list(prefix, options)) {
            if (last !== undefined && compareKeys(info.key, last) <= 0) continue;
            last = info.key;
            yield info;
          }
          return;
        } catch (err) {
          if (refreshed || !isRefusal(err)) throw err;
          try {
            await refresh(generation, "list");
          } catch (reopenError) {
            throw stillRefused(err, reopenError);
          }
        } finally {
          release(generation);
        }
      }
    },

    close() {
      closed = true;
      current.retired = true;
      if (current.inFlight === 0) current.store.close();
    },
  };
}

function isRefusal(err: unknown): err is TcfsError {
  return err instanceof TcfsError && err.kind === "store_forbidden";
}

/** The refusal, saying why fresh credentials could not be tried. */
function stillRefused(refusal: TcfsError, reopenError: unknown): TcfsError {
  const why = reopenError instanceof Error ? reopenError.message : String(reopenError);
  return new TcfsError(`${refusal.message} (reloading the credentials did not help: ${why})`, {
    kind: refusal.kind,
    hint: reopenError instanceof TcfsError && reopenError.hint ? reopenError.hint : refusal.hint,
    exitCode: refusal.exitCode,
    cause: refusal,
  });
}
