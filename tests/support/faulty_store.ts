/**
 * Fault injection as a store decorator, like `withRetry`: every call goes
 * through one place that counts it by kind and applies the faults a test
 * asked for to the Nth call of that kind. Wraps any store (memory, fs, S3).
 *
 * @module
 */

import { TcfsError, type TcfsErrorKind } from "../../core/errors.ts";
import type { ListOptions, ObjectInfo, ObjectStore } from "../../core/store/object_store.ts";

/** The store calls a fault can target. */
export type StoreOperation =
  | "get"
  | "getRange"
  | "getWithEtag"
  | "put"
  | "putConditional"
  | "has"
  | "list"
  | "delete";

/**
 * What happens to the targeted call:
 * - `fail`: it throws before reaching the store (a refused connection);
 * - `delay`: it waits (`delayMs`, or until `until` settles), then runs;
 * - `lose`: it reports success but does nothing (a write acknowledged and lost;
 *   a read finds nothing);
 * - `drop-after`: it runs, then the connection drops before the answer (the
 *   caller sees an error although the write landed).
 */
export type FaultAction = "fail" | "delay" | "lose" | "drop-after";

/** One injected fault. */
export interface FaultRule {
  op: StoreOperation;
  action: FaultAction;
  /** Which matching call, from 1, counted from when the rule was added. Default 1. */
  nth?: number;
  /** How many matching calls in a row from the Nth it applies to. Default 1. */
  times?: number;
  /** Only calls whose key (or list prefix) starts with this count. */
  keyPrefix?: string;
  /** For `fail`: the error kind thrown. Default `store_unreachable` (transient). */
  kind?: TcfsErrorKind;
  delayMs?: number;
  until?: Promise<unknown>;
}

/** A store with faults to inject, and what was called on it. */
export interface FaultyStore extends ObjectStore {
  /** Adds a fault; returns a function telling whether it fired (and how often). */
  inject(rule: FaultRule): () => number;
  /** Removes every fault not yet fired. */
  heal(): void;
  /** Calls made so far, by kind. */
  readonly calls: Record<StoreOperation, number>;
  /** Every call made so far, in order: its kind and key (or list prefix). */
  readonly requests: { op: StoreOperation; key: string }[];
}

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  fired: number;
}

/**
 * Wraps `store` so that tests can fail, delay, lose or cut off chosen calls.
 *
 * @example
 * ```ts
 * const store = withFaults(createMemoryStore());
 * store.inject({ op: "put", keyPrefix: "ns/", action: "fail" }); // the next version write fails
 * ```
 */
export function withFaults(store: ObjectStore): FaultyStore {
  let rules: ActiveRule[] = [];
  const calls: Record<StoreOperation, number> = {
    get: 0,
    getRange: 0,
    getWithEtag: 0,
    put: 0,
    putConditional: 0,
    has: 0,
    list: 0,
    delete: 0,
  };
  const requests: { op: StoreOperation; key: string }[] = [];

  /** The fault this call meets, if any; every matching rule counts the call. */
  function faultFor(op: StoreOperation, key: string): FaultRule | undefined {
    calls[op]++;
    requests.push({ op, key });
    let hit: FaultRule | undefined;
    for (const active of rules) {
      const { rule } = active;
      if (rule.op !== op || !key.startsWith(rule.keyPrefix ?? "")) continue;
      active.seen++;
      const first = rule.nth ?? 1;
      if (active.seen >= first && active.seen < first + (rule.times ?? 1) && !hit) {
        active.fired++;
        hit = rule;
      }
    }
    return hit;
  }

  function injected(op: StoreOperation, key: string, rule: FaultRule): TcfsError {
    return new TcfsError(`${store.location}: ${op} ${key} failed (injected ${rule.action})`, {
      kind: rule.kind ?? "store_unreachable",
      hint: "a fault injected by the test",
    });
  }

  /** Runs one call with its fault; `lost` is what a lost call answers. */
  async function call<T>(
    op: StoreOperation,
    key: string,
    run: () => Promise<T>,
    lost: T,
  ): Promise<T> {
    const rule = faultFor(op, key);
    if (!rule) return await run();
    switch (rule.action) {
      case "fail":
        throw injected(op, key, rule);
      case "delay":
        await (rule.until ?? new Promise((resolve) => setTimeout(resolve, rule.delayMs ?? 0)));
        return await run();
      case "lose":
        return lost;
      case "drop-after":
        await run();
        throw new Deno.errors.ConnectionReset(`${op} ${key}: connection reset (injected)`);
    }
  }

  return {
    location: store.location,
    calls,
    requests,
    inject(rule) {
      const active = { rule, seen: 0, fired: 0 };
      rules.push(active);
      return () => active.fired;
    },
    heal() {
      rules = [];
    },
    ensureReady: () => store.ensureReady(),
    get: (key, options) => call("get", key, () => store.get(key, options), undefined),
    getRange: (key, offset, length) =>
      call("getRange", key, () => store.getRange(key, offset, length), undefined),
    getWithEtag: (key, options) =>
      call("getWithEtag", key, () => store.getWithEtag(key, options), undefined),
    put: (key, body, options) => call("put", key, () => store.put(key, body, options), undefined),
    putConditional: (key, body, condition) =>
      call("putConditional", key, () => store.putConditional(key, body, condition), true),
    has: (key) => call("has", key, () => store.has(key), false),
    delete: (key) => call("delete", key, () => store.delete(key), undefined),
    async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
      const listed = await call(
        "list",
        prefix,
        () => Array.fromAsync(store.list(prefix, options)),
        [],
      );
      yield* listed;
    },
    close: () => store.close(),
  };
}
