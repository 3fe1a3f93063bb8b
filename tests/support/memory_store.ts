/**
 * An object store in memory, for in-process tests: the contract of the fs and
 * S3 stores (object_store_contract_test.ts holds it to the same tests), without
 * a disk or a server. Tests inspect and damage its objects directly.
 *
 * @module
 */

import { compareKeys } from "../../core/store/key_order.ts";
import { oversizedObject } from "../../core/store/oversized_object.ts";
import type {
  GetOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  ObjectWithEtag,
  PutCondition,
} from "../../core/store/object_store.ts";

/** A memory store, with its objects open to the test. */
export interface MemoryStore extends ObjectStore {
  /** The stored objects by key; a test may read, change or delete them. */
  readonly objects: Map<string, Uint8Array>;
}

/**
 * Makes an empty store. Writes and reads copy the bytes, so no caller's buffer
 * aliases a stored object.
 *
 * @example
 * ```ts
 * const store = createMemoryStore();
 * await store.put("k", new TextEncoder().encode("v"));
 * store.objects.has("k"); // true
 * ```
 */
export function createMemoryStore(location = "memory://test"): MemoryStore {
  const objects = new Map<string, Uint8Array>();
  const etags = new Map<string, string>();
  let writes = 0;
  /** The stored object, once it fits the reader's cap. */
  const stored = (key: string, options?: GetOptions) => {
    const body = objects.get(key);
    const max = options?.maxBytes;
    if (body && max !== undefined && body.length > max) {
      throw oversizedObject(key, body.length, max);
    }
    return body;
  };
  const write = (key: string, body: Uint8Array) => {
    objects.set(key, body.slice());
    etags.set(key, `"${++writes}"`);
  };
  return {
    location,
    objects,
    ensureReady: () => Promise.resolve(),
    get: (key, options) => Promise.resolve().then(() => stored(key, options)?.slice()),
    getRange(key, offset, length) {
      return Promise.resolve(objects.get(key)?.slice(offset, offset + length));
    },
    async getWithEtag(key, options): Promise<ObjectWithEtag | undefined> {
      await Promise.resolve();
      const body = stored(key, options);
      // A test may have put the object in through `objects`; it still gets an etag.
      if (body && !etags.has(key)) etags.set(key, `"${++writes}"`);
      return body && { body: body.slice(), etag: etags.get(key)! };
    },
    put(key, body) {
      write(key, body);
      return Promise.resolve();
    },
    putConditional(key: string, body: Uint8Array, condition: PutCondition) {
      const holds = "ifNoneMatch" in condition
        ? !objects.has(key)
        : objects.has(key) && etags.get(key) === condition.ifMatch;
      if (holds) write(key, body);
      return Promise.resolve(holds);
    },
    has: (key) => Promise.resolve(objects.has(key)),
    delete(key) {
      objects.delete(key);
      etags.delete(key);
      return Promise.resolve();
    },
    async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
      const entries = new Map<string, number>();
      for (const [key, body] of objects) {
        if (!key.startsWith(prefix)) continue;
        const cut = options.delimiter ? key.indexOf("/", prefix.length) : -1;
        if (cut >= 0) entries.set(key.slice(0, cut + 1), 0);
        else entries.set(key, body.length);
      }
      const after = options.startAfter;
      const keys = [...entries.keys()]
        .filter((key) => after === undefined || compareKeys(key, after) > 0).sort(compareKeys);
      for (const key of keys) yield { key, size: entries.get(key)! };
    },
    close() {},
  };
}
