/**
 * Retrying as a decorator, the way restic does it: backends stay small and
 * report failures honestly, and this one wrapper decides what is worth another
 * try. Network trouble and server errors are; refusals (403), absences (404),
 * failed preconditions (412) and bad data are not. Retries are bounded in time as well as in
 * number: SeaweedFS with too few live volume servers to place a replica answers each upload with
 * a 500 only after 30–60 s, and five such tries would hold a push for minutes before it fails.
 *
 * @module
 */

import { TcfsError, type TcfsErrorKind } from "../errors.ts";
import { compareKeys } from "./key_order.ts";
import type { ListOptions, ObjectInfo, ObjectStore, PutCondition } from "./object_store.ts";

/** What {@linkcode RetryOptions.onRetry} is told before each new attempt. */
export interface RetryInfo {
  /** The store method, e.g. `"put"`. */
  operation: string;
  /** The key or list prefix it was called with, when it has one. */
  key?: string;
  /** The attempt that just failed, from 1. */
  attempt: number;
  /** How long it waits before the next attempt. */
  delayMs: number;
  error: unknown;
}

/** How {@linkcode withRetry} retries. */
export interface RetryOptions {
  /** Tries per call, the first included. Default 5. */
  attempts?: number;
  /** Backoff before the second try; it doubles each time. Default 100 ms. */
  baseDelayMs?: number;
  /** Cap on one backoff. Default 3 s. */
  maxDelayMs?: number;
  /**
   * No new attempt starts once this long has passed since the first one began (backoff
   * included). Default 60 s: a few quick failures are always retried in full, a failure that
   * took most of it is not tried again.
   */
  budgetMs?: number;
  /** Called before every retry, for logs and metrics. */
  onRetry?: (info: RetryInfo) => void;
}

/** TcfsError kinds that describe a passing condition rather than a wrong request. */
const TRANSIENT_KINDS = new Set<TcfsErrorKind>(["store_unreachable", "store_error"]);
const TRANSIENT_DENO_ERRORS = [
  Deno.errors.ConnectionRefused,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
  Deno.errors.NotConnected,
  Deno.errors.TimedOut,
  Deno.errors.BrokenPipe,
];
const TRANSIENT_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Wraps a store so that every call is retried on network errors and 5xx, with
 * exponential backoff and full jitter, within a number of attempts and a time
 * budget. When it gives up it throws the last error, its message saying how many
 * attempts were made and over how long.
 *
 * A listing that fails part-way is resumed after the last key it yielded, so
 * callers never see a key twice.
 *
 * @example
 * ```ts
 * const store = withRetry(createS3Store(opts), {
 *   onRetry: ({ operation, attempt }) => console.warn(`${operation}: retry ${attempt}`),
 * });
 * ```
 */
export function withRetry(store: ObjectStore, opts: RetryOptions = {}): ObjectStore {
  const attempts = opts.attempts ?? 5;
  const baseDelayMs = opts.baseDelayMs ?? 100;
  const maxDelayMs = opts.maxDelayMs ?? 3_000;
  const budgetMs = opts.budgetMs ?? 60_000;

  /**
   * Waits before the next attempt, or throws `err` when there should be none. `started` is
   * when the first attempt began.
   */
  async function backOff(
    err: unknown,
    attempt: number,
    started: number,
    operation: string,
    key?: string,
  ) {
    if (!isTransient(err)) throw err;
    if (attempt >= attempts) throw gaveUp(err, attempt, started);
    const delayMs = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    if (Date.now() + delayMs - started > budgetMs) throw gaveUp(err, attempt, started);
    opts.onRetry?.({ operation, key, attempt, delayMs, error: err });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }

  async function retry<T>(operation: string, key: string | undefined, call: () => Promise<T>) {
    const started = Date.now();
    for (let attempt = 1;; attempt++) {
      try {
        return await call();
      } catch (err) {
        await backOff(err, attempt, started, operation, key);
      }
    }
  }

  return {
    location: store.location,
    ensureReady: () => retry("ensureReady", undefined, () => store.ensureReady()),
    get: (key, options) => retry("get", key, () => store.get(key, options)),
    getRange: (key, offset, length) =>
      retry("getRange", key, () => store.getRange(key, offset, length)),
    getWithEtag: (key, options) => retry("getWithEtag", key, () => store.getWithEtag(key, options)),
    put: (key, body, options) => retry("put", key, () => store.put(key, body, options)),
    has: (key) => retry("has", key, () => store.has(key)),
    delete: (key) => retry("delete", key, () => store.delete(key)),
    close: () => store.close(),

    async putConditional(key: string, body: Uint8Array, condition: PutCondition) {
      let calls = 0;
      const written = await retry("putConditional", key, () => {
        calls++;
        return store.putConditional(key, body, condition);
      });
      if (written || calls === 1) return written;
      // An earlier attempt may have landed and only its answer been lost, in
      // which case the retry fails its own precondition. Our bytes in place
      // mean the write happened (or an identical one did, which is as good).
      const current = await retry("get", key, () => store.get(key, { maxBytes: body.length }));
      return current !== undefined && equalBytes(current, body);
    },

    async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
      let last: string | undefined;
      let started = Date.now();
      for (let attempt = 1;; attempt++) {
        try {
          for await (const info of store.list(prefix, options)) {
            if (last !== undefined && compareKeys(info.key, last) <= 0) continue;
            last = info.key;
            // Progress since the last failure earns a fresh set of attempts and time.
            attempt = 1;
            started = Date.now();
            yield info;
          }
          return;
        } catch (err) {
          await backOff(err, attempt, started, "list", prefix);
        }
      }
    },
  };
}

function isTransient(err: unknown): boolean {
  if (err instanceof TcfsError) return TRANSIENT_KINDS.has(err.kind);
  if (TRANSIENT_DENO_ERRORS.some((type) => err instanceof type)) return true;
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && TRANSIENT_NODE_CODES.has(code);
}

function gaveUp(err: unknown, attempts: number, started: number): unknown {
  if (!(err instanceof TcfsError)) return err;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const tries = `${attempts} attempt${attempts === 1 ? "" : "s"}`;
  return new TcfsError(`${err.message} (gave up after ${tries} in ${seconds} s)`, {
    kind: err.kind,
    hint: err.hint,
    exitCode: err.exitCode,
    cause: err,
  });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
