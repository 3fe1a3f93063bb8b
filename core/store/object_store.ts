/**
 * The storage interface every backend implements: a flat key space of
 * immutable-ish objects, as an S3 bucket offers.
 *
 * @module
 */

/** One entry of a listing. */
export interface ObjectInfo {
  key: string;
  size: number;
}

/** Preconditions for {@linkcode ObjectStore.putConditional}. */
export type PutCondition =
  /** Write only if no object exists under the key. */
  | { ifNoneMatch: "*" }
  /** Write only if the current object's etag equals this one. */
  | { ifMatch: string };

/** How to write an object. */
export interface PutOptions {
  /**
   * Readers check these bytes against hashes they hold (packs of chunks), so the
   * transport need not sign them: S3 then sends `UNSIGNED-PAYLOAD` instead of
   * hashing every byte with SHA-256 for the request signature.
   */
  contentVerifiedByReaders?: boolean;
}

/** How to read an object. */
export interface GetOptions {
  /**
   * The most bytes the caller accepts. A bigger object is refused with a
   * `TcfsError` of kind `oversized_object` before its body is read into memory:
   * what the store holds is written by anyone with the bucket keys.
   */
  maxBytes?: number;
}

/** How to list keys. */
export interface ListOptions {
  /** Only keys after this one (in byte order): a reader resuming where it left off. */
  startAfter?: string;
  /**
   * With `"/"`, keys below the next `/` after the prefix are rolled up into one entry per
   * folder, its key ending in `/` and its size 0, as S3's common prefixes.
   */
  delimiter?: "/";
}

/** An object's bytes with the etag a conditional write can refer to. */
export interface ObjectWithEtag {
  body: Uint8Array;
  etag: string;
}

/**
 * A bucket-like key/value store. Keys use `/` separators and never start with `/`.
 * Implementations throw {@linkcode TcfsError} with an actionable hint on failure.
 */
export interface ObjectStore {
  /** Where the store lives, for messages (an endpoint URL or a directory). Never holds secrets. */
  readonly location: string;
  /** Makes sure the bucket or directory exists; creates it on first use. */
  ensureReady(): Promise<void>;
  /** Returns the object's bytes, or `undefined` when the key does not exist. */
  get(key: string, options?: GetOptions): Promise<Uint8Array | undefined>;
  /**
   * Returns `length` bytes of the object starting at `offset` (fewer only when the
   * object is shorter), or `undefined` when the key does not exist. Never holds
   * more memory than the object has bytes from `offset` on.
   */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array | undefined>;
  /** Like {@linkcode get}, also returning the etag. */
  getWithEtag(key: string, options?: GetOptions): Promise<ObjectWithEtag | undefined>;
  /** Writes the object; readers see either the old or the new bytes, never a mix. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void>;
  /**
   * Writes only if the condition holds. Returns false when it did not (412).
   * Backends without conditional writes must still be atomic here (the filesystem uses a lock).
   */
  putConditional(key: string, body: Uint8Array, condition: PutCondition): Promise<boolean>;
  /** True when the key exists. */
  has(key: string): Promise<boolean>;
  /** Lists every key that starts with `prefix`, in lexicographic order. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Deletes the key; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Releases connections. */
  close(): void;
}
