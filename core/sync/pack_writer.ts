/**
 * Packs chunks into objects of a few MiB before they go to the store, the way
 * restic does. An S3 request costs far more than its bytes: SeaweedFS on two
 * cores takes ~46 MiB/s as 256 KiB objects but ~160 MiB/s as 4 MiB ones
 * (`scripts/bench/store-put.ts`). A version names each chunk's pack, offset and
 * length, so a reader needs no index and fetches neighbours in one range GET.
 *
 * A chunk is *placed* as soon as its bytes sit in the open pack; it is
 * *durable* once that pack is in the store. Callers write a version only after
 * every pack it names is durable. Packs are sealed when full and by
 * {@linkcode PackWriter.flush}, which a push calls once all of its files are placed.
 *
 * Files saved at once share the open pack, so their chunks alternate in it. A large file gets
 * a lane of its own ({@linkcode PackWriter.lane}) so that its new chunks lie side by side: a
 * pull or a mount then reads it in ranges of whole packs, where two 512 MiB files pushed
 * together cost some 2,300 range requests, most of them of one chunk (docs/BENCHMARKS.md). A
 * few lanes at once: a large file waits for one, which also bounds the memory large files take
 * together.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import {
  CHUNK_FORMAT_SEALED,
  encodeChunkParts,
  type EncodedChunk,
} from "../chunking/chunk_codec.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";
import { sealStoredForm } from "../crypto/sealed_object.ts";
import { refuseIfSealed } from "../crypto/namespace_sealing.ts";
import type { SyncContext } from "./sync_context.ts";
import type { ChunkRef } from "../remote/file_version.ts";
import { packKey } from "../remote/remote_keys.ts";
import { concatBytes } from "../encoding/concat_bytes.ts";
import { BUG_HINT, TcfsError } from "../errors.ts";
import { rememberObjectStored } from "../state/chunk_locations.ts";
import { releaseBuffer } from "../runtime/released_buffer.ts";

/** A pack is sealed once it holds this many stored bytes. */
export const PACK_TARGET_BYTES = 4 * 1024 * 1024;

/**
 * Chunks forgotten ({@linkcode PackWriter.forget}) that a pack writer still remembers: two
 * segments' worth of small files, far more than are looked up at any moment.
 */
export const FORGET_AFTER = 2048;

/** Packs uploading at once: the best of 2/4/8 for 4 MiB objects against SeaweedFS here. */
const PACK_UPLOADS = 4;

/**
 * Whether a file of `size` bytes is large: it fills packs, so a push gives it a lane of its own
 * ({@linkcode PackWriter.lane}), and push and pull take such files in turns of their own.
 *
 * @example
 * ```ts
 * using lane = isLargeFile(info.size) ? await packs.lane() : undefined;
 * ```
 */
export function isLargeFile(size: number): boolean {
  return size >= PACK_TARGET_BYTES;
}

/**
 * Lanes open at once at most, by default: each holds an open pack of up to
 * {@linkcode PACK_TARGET_BYTES}, and its file's reads and chunks in flight. Two keep a push of
 * large files as fast as four or more did, and its peak RSS lowest (64 files of 6 MiB: 233–242
 * MB, 255–258 with four, 490 MB with every file at once before lanes).
 */
export const MAX_LANES = 2;

/** Counters a push reports. */
export interface UploadCounters {
  chunksUploaded: number;
  bytesUploaded: number;
}

/** Where a chunk went, and when it is safe to name it in a version. */
export interface PlacedChunk {
  ref: ChunkRef;
  /** Settles once the chunk's pack is in the store; rejects if that upload failed. */
  durable: Promise<void>;
}

/** Collects the chunks of one push's files into packs: a common one, and lanes for large files. */
export interface PackWriter {
  /**
   * Places a chunk (once per id per writer), waiting while too many packs are
   * uploading. `encoded`, the chunk's stored form if it is already known, spares
   * encoding it here. The pack keeps a reference to the bytes until it is sealed:
   * they must not change or move before then. `handOver` gives the writer `raw` and
   * `encoded`'s payload for good: it frees their memory as soon as it no longer needs them
   * (`released_buffer.ts`), so the caller must not read them again.
   */
  place(
    id: string,
    raw: Uint8Array,
    encoded?: EncodedChunk,
    handOver?: boolean,
  ): Promise<PlacedChunk>;
  /**
   * Seals the common pack, so that everything placed so far becomes durable but the chunks in
   * lanes still open, which their files' lanes seal.
   */
  flush(): void;
  /** Lanes open at once at most ({@linkcode PackWriterOptions.lanes}). */
  readonly lanes: number;
  /**
   * A placer whose chunks go into packs of their own, one after the other, for one large file;
   * it waits while {@linkcode PackWriterOptions.lanes} lanes are open. Disposing of it seals
   * its open pack, so the file's chunks become durable without waiting for
   * {@linkcode flush}, and lets the next file have the lane.
   */
  lane(): Promise<PackLane>;
  /**
   * Lets go of what `place` remembers of these chunks, once a version naming them is written
   * and their locations recorded (`chunk_locations.ts`), where a later file finds them: a push
   * of 100,000 small files otherwise held every chunk's placing to its end (some 25 MB). Each
   * is let go of only after {@linkcode FORGET_AFTER} more: a file that looked a chunk up just
   * before its location was recorded still finds it here. A chunk placed again once it is let
   * go of goes into a pack again.
   */
  forget(refs: readonly ChunkRef[]): void;
  readonly counters: UploadCounters;
}

/** Places one file's chunks side by side ({@linkcode PackWriter.lane}). */
export interface PackLane extends Disposable {
  place: PackWriter["place"];
}

/** Options for {@linkcode createPackWriter}; the defaults suit SeaweedFS and S3. */
export interface PackWriterOptions {
  targetBytes?: number;
  uploads?: number;
  /**
   * Lanes open at once ({@linkcode MAX_LANES} by default). 0: large files share the common
   * pack as small ones do, as writers did before lanes (tests of such stores).
   */
  lanes?: number;
  /** The fleet's keys when the namespace is sealed: each chunk is then sealed with its id as place. */
  keys?: FleetKeys;
  /** Runs once, before the first pack goes up; a rejection fails every pack instead. */
  beforeFirstUpload?: () => Promise<void>;
}

/** Where chunks are being packed: the common pack, or a lane's. */
interface Packing {
  open?: OpenPack;
  /**
   * A lane disposed of: a chunk still being sealed for it when it was goes to the common
   * pack, which the push's flush seals, and not to a pack of the lane's that nothing would.
   */
  closed?: boolean;
}

interface OpenPack {
  id: string;
  parts: Uint8Array[];
  /** The parts the writer owns (boxes it sealed, bytes handed over), freed once joined. */
  owned: Uint8Array[];
  bytes: number;
  chunks: number;
  landed: PromiseWithResolvers<void>;
}

/**
 * Creates a pack writer for one push.
 *
 * @example
 * ```ts
 * const packs = createPackWriter(store);
 * const { ref, durable } = await packs.place(id, bytes);
 * packs.flush();
 * await durable; // now a version may name `ref`
 * ```
 */
export function createPackWriter(store: ObjectStore, options: PackWriterOptions = {}): PackWriter {
  const targetBytes = options.targetBytes ?? PACK_TARGET_BYTES;
  const uploads = options.uploads ?? PACK_UPLOADS;
  const counters: UploadCounters = { chunksUploaded: 0, bytesUploaded: 0 };
  const placed = new Map<string, Promise<PlacedChunk>>();
  /** Ids forgotten, oldest first, that `placed` still holds. */
  let forgotten: string[] = [];
  const uploading = new Set<Promise<void>>();
  const common: Packing = {};
  const maxLanes = options.lanes ?? MAX_LANES;
  let lanes = 0;
  /** Files waiting for a lane, first come first served. */
  const waiting: (() => void)[] = [];
  let failure: unknown;
  let cleared: Promise<void> | undefined;

  function openPack(): OpenPack {
    const landed = Promise.withResolvers<void>();
    // Callers that never await a failed pack must not turn it into an unhandled rejection.
    landed.promise.catch(() => {});
    return { id: randomPackId(), parts: [], owned: [], bytes: 0, chunks: 0, landed };
  }

  function seal(packing: Packing): void {
    const pack = packing.open;
    packing.open = undefined;
    if (!pack || pack.bytes === 0) return;
    const body = concatBytes(pack.parts);
    pack.parts = []; // the copy is all the upload needs
    pack.owned.forEach(releaseBuffer);
    pack.owned = [];
    if (body.length !== pack.bytes) {
      // A part whose memory moved away after placing (a bug) must not become a short pack.
      failure ??= new TcfsError(`pack ${pack.id} lost ${pack.bytes - body.length} bytes`, {
        hint: BUG_HINT,
      });
      pack.landed.reject(failure);
      return;
    }
    cleared ??= options.beforeFirstUpload?.() ?? Promise.resolve();
    const upload = cleared.then(() =>
      store.put(packKey(pack.id), body, { contentVerifiedByReaders: true })
    ).then(
      () => {
        // Only once stored: a store that gave up on a put (a daemon stopping) may still be
        // sending it.
        releaseBuffer(body);
        rememberObjectStored(store.location, packKey(pack.id));
        counters.chunksUploaded += pack.chunks;
        counters.bytesUploaded += pack.bytes;
        pack.landed.resolve();
      },
      (err) => {
        failure ??= err;
        pack.landed.reject(err);
      },
    ).finally(() => uploading.delete(upload));
    uploading.add(upload);
  }

  async function placeNew(
    packing: Packing,
    id: string,
    raw: Uint8Array,
    encoded: EncodedChunk | undefined,
    handOver: boolean,
  ): Promise<PlacedChunk> {
    const size = raw.length;
    let { format, payload } = encoded ?? encodeChunkParts(raw);
    // What may be freed once the pack no longer needs it: what the caller handed over, and
    // a frame compressed here.
    const owned = handOver ? [raw, payload] : payload === raw || encoded ? [] : [payload];
    if (options.keys) {
      payload = await sealStoredForm(options.keys, format, payload, id);
      format = CHUNK_FORMAT_SEALED;
      owned.push(payload);
    }
    // The pack holds on to its payload until it is sealed; the rest can go now.
    for (const bytes of owned) if (bytes !== payload) releaseBuffer(bytes);
    if (failure) throw failure;
    const into = packing.closed ? common : packing;
    const pack = into.open ??= openPack();
    const length = 1 + payload.length;
    const ref: ChunkRef = { id, size, pack: pack.id, offset: pack.bytes, length };
    // The pack's one copy at sealing joins format byte and payload: no copy per chunk.
    pack.parts.push(Uint8Array.of(format), payload);
    if (owned.includes(payload)) pack.owned.push(payload);
    pack.bytes += length;
    pack.chunks++;
    if (pack.bytes >= targetBytes) seal(into);
    while (uploading.size >= uploads) await Promise.race(uploading);
    if (failure) throw failure;
    return { ref, durable: pack.landed.promise };
  }

  /** Places a chunk once per writer, in `packing`'s open pack when it is new. */
  function placeIn(packing: Packing): PackWriter["place"] {
    return (id, raw, encoded, handOver = false) => {
      let pending = placed.get(id);
      if (!pending) {
        pending = placeNew(packing, id, raw, encoded, handOver);
        // A chunk that never made it into a pack may be placed again by a later file.
        pending.catch(() => placed.delete(id));
        placed.set(id, pending);
      } else if (handOver) {
        // Placed already: these bytes are not needed at all.
        releaseBuffer(raw);
        if (encoded) releaseBuffer(encoded.payload);
      }
      return pending;
    };
  }

  return {
    counters,
    lanes: maxLanes,
    place: placeIn(common),
    flush: () => seal(common),
    async lane() {
      // After a failed upload, a file need not read its first chunk to learn that.
      if (failure) throw failure;
      if (maxLanes === 0) return { place: placeIn(common), [Symbol.dispose]() {} };
      if (lanes < maxLanes) lanes++;
      // A lane let go passes straight to the first waiter, still counted.
      else await new Promise<void>((resolve) => waiting.push(resolve));
      const own: Packing = {};
      return {
        place: placeIn(own),
        [Symbol.dispose]() {
          if (own.closed) return;
          own.closed = true;
          seal(own);
          const next = waiting.shift();
          if (next) next();
          else lanes--;
        },
      };
    },
    forget(refs) {
      for (const ref of refs) forgotten.push(ref.id);
      if (forgotten.length < 2 * FORGET_AFTER) return;
      const going = forgotten.length - FORGET_AFTER;
      for (let i = 0; i < going; i++) placed.delete(forgotten[i]);
      forgotten = forgotten.slice(going);
    },
  };
}

function randomPackId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The pack writer for a sync context: sealing with its keys, or, without keys, refusing to put
 * plaintext into a namespace sealed since the context was made.
 *
 * @example
 * ```ts
 * const packs = contextPackWriter(ctx);
 * ```
 */
export function contextPackWriter(ctx: SyncContext): PackWriter {
  return createPackWriter(ctx.store, {
    keys: ctx.keys,
    lanes: ctx.packLanes,
    beforeFirstUpload: ctx.keys
      ? undefined
      : () => refuseIfSealed(ctx.store, ctx.state, ctx.namespace),
  });
}
