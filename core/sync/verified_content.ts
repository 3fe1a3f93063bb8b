/**
 * Reads a stored file version back, checking as it goes: every chunk against its size and
 * BLAKE3 id (keyed in format 3: `chunk_id_key.ts`), and the whole against the version's digest
 * (`file_digest.ts`). Pulls write what
 * it yields to a temp file; `tcfs check --read-data` only wants the verdict.
 *
 * Given the chunk cache (`core/cache/chunk_cache.ts`), chunks it holds are read from it and
 * checked the same way (one that fails is dropped and fetched), the rest are fetched (still one
 * request per run of neighbours), and what was fetched is put into it.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import { type ChunkRef, type FileVersion, MAX_STORED_CHUNK_BYTES } from "../remote/file_version.ts";
import { chunkKey, packKey } from "../remote/remote_keys.ts";
import { decodeChunk } from "../chunking/chunk_codec.ts";
import { createBlake3Hasher } from "../hashing/blake3.ts";
import { type ChunkHasher, hashChunk, type HashedChunk } from "../hashing/chunk_hasher.ts";
import { decodeBase64 } from "../encoding/base64.ts";
import { contentDigest } from "../remote/file_digest.ts";
import { chunkIdKey } from "../remote/chunk_id_key.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";
import { isSealed, unsealStored } from "../crypto/sealed_object.ts";
import type { BoxOpener, OpenedSlice } from "../crypto/box_opener.ts";
import type { ChunkCache } from "../cache/chunk_cache.ts";
import { collectIfGrown } from "../runtime/full_collection.ts";
import { TcfsError, type TcfsErrorKind } from "../errors.ts";

/** Ranges fetched ahead of the one being consumed, per file. */
const DOWNLOAD_WINDOW = 4;

/**
 * Neighbouring chunks of one pack are fetched together, up to this many bytes
 * stored and, once decoded, raw (compressed chunks would otherwise multiply it).
 */
const MAX_RANGE_BYTES = 4 * 1024 * 1024;

/**
 * Chunk bytes read, across every read in the process, between two looks at whether to collect
 * garbage (`collectIfGrown`). Each chunk leaves its fetched range, the HTTP client's pieces of
 * it, a copy for the opener's thread and its raw bytes to the collector, and V8 collects dead
 * buffers only once some 64 MiB more were allocated: between a pull's windows, a real tree's
 * pull (5,656 files, 167 MiB) held up to 90 MB of ArrayBuffers, most of them dead. Looking
 * every 16 MiB took its peak RSS from 276–315 MB to 263–278 MB, for some eight collections and
 * no CPU that alternating runs could tell (docs/BENCHMARKS.md).
 */
const COLLECT_AFTER_READ_BYTES = 16 * 1024 * 1024;

/** Chunk bytes read since the last look (see {@linkcode COLLECT_AFTER_READ_BYTES}). */
let readSinceLook = 0;

/** Counters a pull reports. */
export interface DownloadCounters {
  chunksDownloaded: number;
  bytesDownloaded: number;
}

/** Options for {@linkcode readVerifiedContent}. */
export interface VerifiedReadOptions {
  counters: DownloadCounters;
  /** Checks chunk ids, on another thread once a pull is large; chunks are hashed in place without it. */
  hasher?: ChunkHasher;
  /**
   * The fleet's keys, for sealed chunks and keyed chunk ids; a sealed chunk or a format 3
   * version without them is `not_approved`.
   */
  keys?: FleetKeys;
  /** Opens sealed chunks on another thread once a pull is large; opened in place without it. */
  opener?: BoxOpener;
  /** The chunk cache, read before the store and filled with what was fetched. */
  cache?: ChunkCache;
  /**
   * Chunks opened ahead with their run of a pack (`pack_run_prefetch.ts`): a range it gives
   * is checked as it comes, instead of fetched and opened here.
   */
  opened?: OpenedRange;
}

/**
 * The chunks `refs` (neighbours in the pack `key`) opened ahead, each its raw bytes and id or
 * the error it met (`undefined` from the promise: the pack is missing); `undefined` when they
 * were not.
 */
export type OpenedRange = (
  key: string,
  refs: readonly ChunkRef[],
) => Promise<OpenedSlice[] | undefined> | undefined;

/** What is wrong with a stored version's content, for reports that list damage. */
export interface ContentDamage {
  /** The object that failed: `packs/<id>` or `chunks/<id>`; absent for the whole file. */
  object?: string;
  /** The chunk that failed, when one did. */
  chunk?: string;
  why: string;
}

/** A stored version whose content does not check out; `damage` says where. */
export class DamagedContentError extends TcfsError {
  readonly damage: ContentDamage;

  constructor(
    message: string,
    damage: ContentDamage,
    options: { kind: TcfsErrorKind; hint: string },
  ) {
    super(message, options);
    this.name = "DamagedContentError";
    this.damage = damage;
  }
}

/**
 * Hands `version`'s bytes to `consume` in file order, each piece only after its chunk checked
 * out (with the chunk ref; none for inline content), then checks the file digest.
 *
 * @throws {DamagedContentError} for a missing object, a corrupt chunk or a wrong digest.
 *
 * @example
 * ```ts
 * await readVerifiedContent(store, version, { counters }, (bytes) => file.write(bytes));
 * ```
 */
export async function readVerifiedContent(
  store: ObjectStore,
  version: FileVersion,
  options: VerifiedReadOptions,
  consume: (bytes: Uint8Array, ref?: ChunkRef) => Promise<unknown>,
): Promise<void> {
  // Format 1 digests are a plain BLAKE3 of the bytes; format 2 and 3 digests cover the
  // chunk list, whose every chunk is checked against its id as it arrives.
  const plainHasher = version.format === 1 ? await createBlake3Hasher() : undefined;
  const idKey = chunkIdKey(version.format, options.keys);
  const take = async (bytes: Uint8Array, ref?: ChunkRef) => {
    plainHasher?.update(bytes);
    await consume(bytes, ref);
  };
  if (version.inline !== undefined) {
    const bytes = decodeBase64(version.inline);
    options.counters.bytesDownloaded += bytes.length;
    await take(bytes);
  } else {
    const ranges = groupIntoRanges(version.chunks, options.cache);
    const fetches: Promise<Uint8Array[]>[] = [];
    const fetchAt = (i: number) => {
      if (i < ranges.length) {
        fetches[i] = fetchRange(store, version, ranges[i], idKey, options);
        // A fetch that fails before its turn is reported when awaited, not as an
        // unhandled rejection that would kill the process.
        fetches[i].catch(() => {});
      }
    };
    for (let i = 0; i < DOWNLOAD_WINDOW; i++) fetchAt(i);
    try {
      for (let i = 0; i < ranges.length; i++) {
        const chunks = await fetches[i];
        delete fetches[i];
        fetchAt(i + DOWNLOAD_WINDOW);
        for (const [j, bytes] of chunks.entries()) {
          await take(bytes, ranges[i].refs[j]);
          readSinceLook += bytes.length;
        }
        if (readSinceLook >= COLLECT_AFTER_READ_BYTES) {
          readSinceLook = 0;
          collectIfGrown();
        }
      }
    } finally {
      // Let outstanding fetches settle before the caller cleans up.
      await Promise.allSettled(fetches.filter(Boolean));
    }
  }
  // Every chunk was consumed, in order, after its id checked out.
  const digest = plainHasher ? plainHasher.digestHex() : await contentDigest(version, idKey);
  if (digest !== version.blake3) {
    throw new DamagedContentError(
      `${version.path}: the assembled file does not match its digest`,
      { why: "the assembled file does not match its digest" },
      {
        kind: "corrupt_file",
        hint: "the remote version is damaged; push it again from a device that has it",
      },
    );
  }
}

/**
 * Fetches `refs` (some of `version`'s chunks, in file order) and returns each one's raw bytes
 * once it checked out: one request per run of neighbours in a pack, as a whole-file read makes,
 * all at once. For reads of part of a file (`tcfs mount`).
 *
 * @throws {DamagedContentError} for a missing object or a corrupt chunk.
 *
 * @example
 * ```ts
 * const [first] = await fetchVerifiedChunks(store, version, version.chunks.slice(0, 1), { counters });
 * ```
 */
export async function fetchVerifiedChunks(
  store: ObjectStore,
  version: FileVersion,
  refs: ChunkRef[],
  options: VerifiedReadOptions,
): Promise<Uint8Array[]> {
  const idKey = chunkIdKey(version.format, options.keys);
  const fetched = await Promise.all(
    groupIntoRanges(refs).map((range) => fetchRange(store, version, range, idKey, options)),
  );
  return fetched.flat();
}

/**
 * The chunk `ref` from `cache`, once it checks out against its size and id (keyed with `idKey`
 * when there is one); undefined when it is not cached, or was and did not check out (it is
 * dropped, for the caller to fetch it again).
 *
 * @example
 * ```ts
 * const bytes = await cachedChunk(cache, ref, chunkIdKey(version.format, ctx.keys));
 * ```
 */
export async function cachedChunk(
  cache: ChunkCache,
  ref: ChunkRef,
  idKey: Uint8Array | undefined,
  hasher?: ChunkHasher,
): Promise<Uint8Array | undefined> {
  const cached = await cache.get(ref.id);
  if (!cached) return undefined;
  if (cached.length === ref.size) {
    const { id, bytes } = await hashChunk(cached, hasher, { idKey });
    if (id === ref.id) return bytes;
  }
  cache.drop(ref.id);
  return undefined;
}

/** Chunks that one request fetches: neighbours in one pack, or a single stand-alone chunk. */
interface ChunkRange {
  key: string;
  /** Where the first chunk starts; undefined for a whole stand-alone object. */
  offset?: number;
  length: number;
  /** Raw bytes of its chunks, once decoded. */
  rawBytes: number;
  refs: ChunkRef[];
  /** A single chunk the cache holds: read from there, fetched only if it does not check out. */
  cached?: ChunkCache;
}

/**
 * Groups a file's chunks into requests: consecutive chunks of one pack share a range; a chunk
 * `cache` holds is a range of its own, which breaks the run.
 */
function groupIntoRanges(refs: ChunkRef[], cache?: ChunkCache): ChunkRange[] {
  const ranges: ChunkRange[] = [];
  for (const ref of refs) {
    const last = ranges.at(-1);
    const cached = cache?.has(ref.id) ? cache : undefined;
    if (ref.pack === undefined) {
      ranges.push({ key: chunkKey(ref.id), length: 0, rawBytes: ref.size, refs: [ref], cached });
    } else if (
      !cached && !last?.cached &&
      last?.offset !== undefined && last.key === packKey(ref.pack) &&
      last.offset + last.length === ref.offset && last.length + ref.length! <= MAX_RANGE_BYTES &&
      last.rawBytes + ref.size <= MAX_RANGE_BYTES
    ) {
      last.length += ref.length!;
      last.rawBytes += ref.size;
      last.refs.push(ref);
    } else {
      ranges.push({
        key: packKey(ref.pack),
        offset: ref.offset,
        length: ref.length!,
        rawBytes: ref.size,
        refs: [ref],
        cached,
      });
    }
  }
  return ranges;
}

/**
 * One range's chunks' raw bytes, each checked against its id (keyed with `idKey` when there is
 * one): from the cache when the range is a cached chunk that checks out, else fetched (and then
 * put into `options.cache`).
 */
async function fetchRange(
  store: ObjectStore,
  version: FileVersion,
  range: ChunkRange,
  idKey: Uint8Array | undefined,
  options: VerifiedReadOptions,
): Promise<Uint8Array[]> {
  if (range.cached) {
    const hit = await cachedChunk(range.cached, range.refs[0], idKey, options.hasher);
    if (hit) return [hit];
  }
  const chunks = await fetchStoredRange(store, version, range, idKey, options);
  try {
    for (const [i, bytes] of chunks.entries()) options.cache?.put(range.refs[i].id, bytes);
  } catch {
    // A cache that cannot take them (disk full) leaves them to be fetched again next time.
  }
  return chunks;
}

/** Fetches one range from the store; see {@linkcode fetchRange}. */
async function fetchStoredRange(
  store: ObjectStore,
  version: FileVersion,
  range: ChunkRange,
  idKey: Uint8Array | undefined,
  options: VerifiedReadOptions,
): Promise<Uint8Array[]> {
  const opened = range.offset === undefined ? undefined : options.opened?.(range.key, range.refs);
  if (opened) {
    const slices = await opened;
    if (!slices) throw missingObject(version, range);
    options.counters.bytesDownloaded += range.length;
    options.counters.chunksDownloaded += range.refs.length;
    return slices.map((slice, i) => checkedOpened(version, range.key, range.refs[i], slice));
  }
  const stored = range.offset === undefined
    ? await store.get(range.key, { maxBytes: MAX_STORED_CHUNK_BYTES })
    : await store.getRange(range.key, range.offset, range.length);
  if (!stored) throw missingObject(version, range);
  options.counters.bytesDownloaded += stored.length;
  options.counters.chunksDownloaded += range.refs.length;
  const check = (ref: ChunkRef, piece: Uint8Array) =>
    checkedChunk(version, range.key, ref, piece, idKey, options);
  if (range.offset === undefined) return [await check(range.refs[0], stored)];
  let at = 0;
  const pieces = range.refs.map((ref) => {
    const piece = stored.subarray(at, at + ref.length!);
    at += ref.length!;
    if (piece.length !== ref.length) {
      throw corruptChunk(version, range.key, ref, "the pack is too short");
    }
    return piece;
  });
  // All of the range's chunks go to the hasher at once.
  return await Promise.all(range.refs.map((ref, i) => check(ref, pieces[i])));
}

/** The error for a range whose object the store does not have. */
function missingObject(version: FileVersion, range: ChunkRange): DamagedContentError {
  const first = range.refs[0].id;
  return new DamagedContentError(
    `${version.path}: ${range.key} (chunk ${first}) is missing from the store`,
    { object: range.key, chunk: first, why: "missing from the store" },
    { kind: "missing_chunk", hint: "push the file again from a device that has it" },
  );
}

/** The chunk's raw bytes, once they match its size and id. */
async function checkedChunk(
  version: FileVersion,
  object: string,
  ref: ChunkRef,
  stored: Uint8Array,
  idKey: Uint8Array | undefined,
  options: VerifiedReadOptions,
): Promise<Uint8Array> {
  let opened: HashedChunk;
  try {
    opened = options.opener && isSealed(stored)
      ? await options.opener.open(stored, ref.id, idKey)
      : await hashChunk(
        await decodeChunk(await unsealStored(options.keys, stored, ref.id)),
        options.hasher,
        { idKey },
      );
  } catch (err) {
    throw openingFailure(version, object, ref, err);
  }
  return checkedOpened(version, object, ref, opened);
}

/** The raw bytes of a chunk opened (with its id), once they match its size and id. */
function checkedOpened(
  version: FileVersion,
  object: string,
  ref: ChunkRef,
  opened: OpenedSlice,
): Uint8Array {
  if (opened instanceof TcfsError) throw openingFailure(version, object, ref, opened);
  const { id, bytes } = opened;
  if (bytes.length !== ref.size) throw corruptChunk(version, object, ref, "wrong size");
  if (id !== ref.id) throw corruptChunk(version, object, ref, "BLAKE3 mismatch");
  return bytes;
}

/**
 * What to throw for `err`, met opening or decoding a chunk: the chunk's damage when its bytes
 * were at fault (that file fails alone); anything else as it is, such as a device without the
 * fleet's key or the opener's thread failing, which no other file's chunks would escape.
 */
function openingFailure(
  version: FileVersion,
  object: string,
  ref: ChunkRef,
  err: unknown,
): unknown {
  if (err instanceof DamagedContentError || !(err instanceof TcfsError)) return err;
  if (err.kind !== "sealed_damaged" && err.kind !== "corrupt_chunk") return err;
  return corruptChunk(version, object, ref, err.message);
}

function corruptChunk(
  version: FileVersion,
  object: string,
  ref: ChunkRef,
  why: string,
): DamagedContentError {
  return new DamagedContentError(
    `${version.path}: chunk ${ref.id} is corrupt (${why})`,
    { object, chunk: ref.id, why: `chunk is corrupt (${why})` },
    { kind: "corrupt_chunk", hint: "push the file again from a device that has a good copy" },
  );
}
