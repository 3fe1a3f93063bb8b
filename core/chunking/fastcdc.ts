/**
 * FastCDC content-defined chunking (Xia et al., USENIX ATC 2016 and IEEE TPDS 2020):
 * a gear rolling hash with normalised chunking (a strict mask before the average size,
 * a loose one after it) and cut-point skipping (no hashing below the minimum size).
 *
 * Boundaries depend only on the bytes around them, so an edit moves the boundaries
 * of the chunks it touches and no others: that is what makes re-pushing an edited
 * file cheap.
 *
 * @module
 */

import type { ByteReader } from "../io/byte_reader.ts";
import { createReadWindow } from "./read_window.ts";
import { ExitCode, TcfsError } from "../errors.ts";

/**
 * Chunk size limits in bytes. Every chunk but a stream's last lies in `[min, max]`.
 * Values are read once per object, so make a new object rather than changing one.
 */
export interface ChunkSizes {
  /** No boundary is placed before this many bytes. */
  readonly min: number;
  /** The size the masks aim for; rounded to the nearest power of two. */
  readonly avg: number;
  /** A boundary is forced at this many bytes. */
  readonly max: number;
}

/**
 * The sizes tcfs stores chunks with: large enough to keep S3 request counts low,
 * small enough that an edit re-uploads little. Changing them changes chunk ids.
 */
export const DEFAULT_CHUNK_SIZES: ChunkSizes = Object.freeze({
  min: 64 * 1024,
  avg: 256 * 1024,
  max: 1024 * 1024,
});

/**
 * The seed of the gear table.
 *
 * The gear table is part of the storage protocol: changing the seed or the generator
 * below moves every chunk boundary, so every chunk id changes and nothing already
 * stored deduplicates against new pushes.
 */
const GEAR_SEED = 0x74636673; // "tcfs" in ASCII

/**
 * 256 pseudo-random 32-bit values: murmur3's fmix32 finaliser applied to a Weyl
 * sequence (golden-ratio increments) started at {@linkcode GEAR_SEED}.
 * Stored as int32 so the hot loop stays in V8's int32 arithmetic.
 */
const GEAR: Int32Array = makeGearTable(GEAR_SEED);

function makeGearTable(seed: number): Int32Array {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let z = (seed + Math.imul(i + 1, 0x9e3779b9)) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    table[i] = z ^ (z >>> 16);
  }
  return table;
}

/**
 * How many bits the strict mask adds and the loose mask drops around log2(avg).
 * The paper recommends 2; we measured 1 as better for re-pushing edits. Over 1,000
 * random 8 MiB files with a 1 MiB overwrite, level 1 put at most 2.9 MiB (95th
 * percentile 2.0 MiB) in new chunks, where level 2 put up to 4.8 MiB (2.6 MiB): its
 * position-dependent masks resynchronise more slowly after an edit.
 */
const NORMALISATION_LEVEL = 1;

/**
 * A mask with the top `bits` bits of a 32-bit word set, as an int32. The top bits of
 * the gear hash are the ones that mix all of the most recent 32 bytes.
 */
function topBitsMask(bits: number): number {
  return (-1 << (32 - bits)) | 0;
}

/** Masks and limits derived once per {@linkcode ChunkSizes} value. */
interface CutParams {
  min: number;
  avg: number;
  max: number;
  strictMask: number;
  looseMask: number;
}

const cutParamsCache = new WeakMap<ChunkSizes, CutParams>();

function cutParams(sizes: ChunkSizes): CutParams {
  let params = cutParamsCache.get(sizes);
  if (params === undefined) {
    validateChunkSizes(sizes);
    const bits = Math.round(Math.log2(sizes.avg));
    params = {
      min: sizes.min,
      avg: sizes.avg,
      max: sizes.max,
      strictMask: topBitsMask(bits + NORMALISATION_LEVEL),
      looseMask: topBitsMask(bits - NORMALISATION_LEVEL),
    };
    cutParamsCache.set(sizes, params);
  }
  return params;
}

function validateChunkSizes({ min, avg, max }: ChunkSizes): void {
  const integers = [min, avg, max].every((n) => Number.isSafeInteger(n));
  if (!integers || min < 64 || !(min <= avg && avg <= max) || avg > 2 ** 28) {
    throw new TcfsError(
      `invalid chunk sizes min=${min} avg=${avg} max=${max}: need integers with ` +
        `64 <= min <= avg <= max and avg <= 256 MiB`,
      {
        hint: "use DEFAULT_CHUNK_SIZES unless you are measuring",
        kind: "usage",
        exitCode: ExitCode.usage,
      },
    );
  }
}

/**
 * Returns the length of the chunk that starts at `data[0]`.
 *
 * The result is exact when `data` holds at least `sizes.max` bytes or ends where the
 * stream ends. With fewer bytes and more to come, buffer more and ask again: with
 * `data.length <= sizes.min`, or no boundary before the end, the whole of `data` is
 * returned, and a later byte could have moved the boundary.
 *
 * @example
 * ```ts
 * const data = crypto.getRandomValues(new Uint8Array(4096));
 * const cut = findChunkBoundary(data, { min: 256, avg: 1024, max: 4096 });
 * console.log(cut >= 256 && cut <= 4096); // true
 * ```
 */
export function findChunkBoundary(data: Uint8Array, sizes: ChunkSizes): number {
  const { min, avg, max, strictMask, looseMask } = cutParams(sizes);
  const end = Math.min(data.length, max);
  if (end <= min) return end;
  const normal = Math.min(end, avg);
  const gear = GEAR;
  let hash = 0;
  let i = min;
  for (; i < normal; i++) {
    hash = ((hash << 1) + gear[data[i]]) | 0;
    if ((hash & strictMask) === 0) return i + 1;
  }
  for (; i < end; i++) {
    hash = ((hash << 1) + gear[data[i]]) | 0;
    if ((hash & looseMask) === 0) return i + 1;
  }
  return end;
}

/**
 * A source of bytes: a {@linkcode ByteReader}, or any async iterable of pieces, such as
 * a file's `readable`. A reader is faster: chunkStream reads straight into its own
 * buffer, where a stream allocates every 64 KiB piece and passes it through promises
 * (measured: a cached file's `readable` delivers about 1 GB/s, its `read` about 5 GB/s).
 */
export type ByteSource = ByteReader | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/**
 * Cuts a stream into content-defined chunks.
 *
 * Chunking is identical whatever sizes the source's pieces have, and memory stays
 * bounded (one buffer of `2 * sizes.max` bytes), so a file of any size can be chunked.
 * Each yielded chunk is a fresh array the consumer may keep. An empty source yields
 * nothing. A reader is left open; an iterable is closed when the chunks stop early.
 *
 * @example
 * ```ts
 * using file = await Deno.open("big.iso");
 * for await (const chunk of chunkStream(file)) {
 *   console.log(chunk.length);
 * }
 * ```
 */
export async function* chunkStream(
  source: ByteSource,
  sizes: ChunkSizes = DEFAULT_CHUNK_SIZES,
): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const { max } = cutParams(sizes);
  let reader: ByteReader;
  let pieces: PiecesReader | undefined;
  if (isByteReader(source)) reader = source;
  else reader = pieces = piecesReader(source);
  try {
    const window = createReadWindow(reader, 2 * max);
    for (;;) {
      // Buffer a full window of max bytes, so that a cut found in it is final.
      const buffered = await window.fill(max);
      if (buffered.length === 0) break;
      const cut = findChunkBoundary(buffered, sizes);
      yield buffered.slice(0, cut);
      window.consume(cut);
    }
  } finally {
    await pieces?.close();
  }
}

function isByteReader(source: ByteSource): source is ByteReader {
  return typeof (source as Partial<ByteReader>).read === "function";
}

/** A {@linkcode ByteReader} over an iterable's pieces, and a way to stop the iterable. */
interface PiecesReader extends ByteReader {
  close(): Promise<void>;
}

function piecesReader(source: AsyncIterable<Uint8Array>): PiecesReader {
  const iterator = source[Symbol.asyncIterator]();
  let piece: Uint8Array = new Uint8Array(0);
  let offset = 0;
  let finished = false;
  return {
    async read(into) {
      while (offset === piece.length) {
        // Finished unless next() yields a piece: a source that ended or failed needs no close.
        finished = true;
        const next = await iterator.next();
        if (next.done) return null;
        finished = false;
        piece = next.value;
        offset = 0;
      }
      const take = Math.min(into.length, piece.length - offset);
      into.set(piece.subarray(offset, offset + take));
      offset += take;
      return take;
    },
    async close() {
      if (!finished) await iterator.return?.();
    },
  };
}
