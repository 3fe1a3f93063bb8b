/**
 * The stored form of a chunk: one format byte, then the payload.
 *
 * | byte 0 | payload                                                         |
 * |--------|-----------------------------------------------------------------|
 * | `0x00` | the raw bytes                                                   |
 * | `0x01` | one zstd frame that records its content size and a checksum     |
 * | `0x02` | a sealed box holding format `0x00` or `0x01` (`core/crypto/sealed_object.ts`) |
 *
 * A chunk's id is the BLAKE3 of its RAW bytes, never of this stored form, so
 * deduplication does not depend on whether or how a chunk was compressed.
 *
 * @module
 */

import { constants, zstdCompressSync, zstdDecompressSync, type ZstdOptions } from "node:zlib";
import { BUG_HINT, TcfsError } from "../errors.ts";
import { DEFAULT_CHUNK_SIZES } from "./fastcdc.ts";

/** Format byte of a chunk stored as is. */
export const CHUNK_FORMAT_RAW = 0x00;
/** Format byte of a zstd-compressed chunk. */
export const CHUNK_FORMAT_ZSTD = 0x01;
/** Format byte of a sealed (end-to-end encrypted) chunk or journal object. */
export const CHUNK_FORMAT_SEALED = 0x02;

/**
 * zstd level used when none is given. Stored chunks decode whatever level wrote them,
 * and chunk ids do not depend on it, so changing it only changes new uploads' sizes.
 *
 * Measured per 64/256/1024 KiB chunk (encode MB/s, stored share of raw), level 1 / 2 / 3:
 * - the pipeline bench's log-like text: 273 / 248 / 194 MB/s, 37.4% / 35.5% / 35.2%;
 * - 7 MB of JavaScript from npm packages: 422 / 379 / 334 MB/s, 23.1% / 22.3% / 21.2%;
 * - 64 MB of /usr/share/doc and /usr/include: 651 / 604 / 521 MB/s, 60.8% / 60.3% / 59.6%.
 *
 * Level 2 encodes 1.13–1.28× as fast as level 3 for 1–5% more stored bytes, which makes
 * compressible files' pipeline (chunking, two BLAKE3 passes, zstd) about 12% faster.
 * Level 1 is only 8–11% faster again than level 2, for another 1–5% of bytes.
 */
export const DEFAULT_ZSTD_LEVEL = 2;

/**
 * Compression is kept only when it saves at least this fraction of the raw size;
 * smaller gains are not worth a decompression on every pull.
 */
const MIN_SAVING_FRACTION = 1 / 16;

/**
 * Node's `pledgedSrcSize`, which Deno 2.9.6 honours but does not declare. It makes the
 * frame header record the content size that {@linkcode decodeChunk} checks.
 */
type PledgedZstdOptions = ZstdOptions & { pledgedSrcSize: number };

/** Options for {@linkcode encodeChunk}. */
export interface EncodeChunkOptions {
  /** zstd compression level, 1 (fastest) to 19; {@linkcode DEFAULT_ZSTD_LEVEL} by default. */
  level?: number;
  /**
   * Compress whatever the size or saving: for objects that rely on the zstd frame's checksum
   * to tell damage (journal segments and checkpoints; chunks have their BLAKE3 id).
   */
  always?: boolean;
}

/** A chunk's stored form in two parts, for writers that lay chunks end to end without a copy. */
export interface EncodedChunk {
  /** {@linkcode CHUNK_FORMAT_RAW} or {@linkcode CHUNK_FORMAT_ZSTD}. */
  format: number;
  /** What follows the format byte: the raw bytes themselves, or one zstd frame. */
  payload: Uint8Array;
}

/**
 * Encodes a chunk for storage, zstd-compressed when that saves at least 1/16 of its
 * size. The stored form is the format byte, then the payload.
 *
 * Compresses synchronously: Deno 2.9.6's async zstdCompress runs on the calling
 * thread all the same (no overlap with other work, measured) and costs ~20% more
 * (182 against 221 MB/s on 256 KiB of text). Other threads come from workers
 * (`core/hashing/chunk_hasher.ts`).
 *
 * Store the result under the BLAKE3 of `raw` (not of the encoded bytes).
 *
 * @example
 * ```ts
 * const raw = new TextEncoder().encode("a".repeat(10_000));
 * const { format, payload } = encodeChunkParts(raw);
 * console.log(format === CHUNK_FORMAT_ZSTD, payload.length < raw.length); // true true
 * ```
 */
export function encodeChunkParts(
  raw: Uint8Array,
  { level = DEFAULT_ZSTD_LEVEL, always = false }: EncodeChunkOptions = {},
): EncodedChunk {
  if (!always && !looksCompressible(raw)) return { format: CHUNK_FORMAT_RAW, payload: raw };
  const compressed = zstdCompressSync(raw, zstdFrameOptions(raw.length, level));
  return always || compressed.length <= raw.length * (1 - MIN_SAVING_FRACTION)
    ? { format: CHUNK_FORMAT_ZSTD, payload: compressed }
    : { format: CHUNK_FORMAT_RAW, payload: raw };
}

/**
 * The zstd options of every frame tcfs writes for `size` raw bytes: the frame records its
 * content size, which {@linkcode decodeChunk} checks, and a checksum. For writers that compress
 * a stream (`createZstdCompress`) into the frame {@linkcode encodeChunkParts} would make.
 *
 * @example
 * ```ts
 * const zstd = createZstdCompress(zstdFrameOptions(text.length));
 * ```
 */
export function zstdFrameOptions(size: number, level = DEFAULT_ZSTD_LEVEL): ZstdOptions {
  const options: PledgedZstdOptions = {
    pledgedSrcSize: size,
    params: {
      [constants.ZSTD_c_compressionLevel]: level,
      [constants.ZSTD_c_checksumFlag]: 1,
      [constants.ZSTD_c_contentSizeFlag]: 1,
    },
  };
  return options;
}

/**
 * {@linkcode encodeChunkParts} joined into one buffer: the chunk as stored.
 *
 * @example
 * ```ts
 * const stored = encodeChunk(new TextEncoder().encode("a".repeat(10_000)));
 * console.log(stored[0] === CHUNK_FORMAT_ZSTD); // true
 * ```
 */
export function encodeChunk(
  raw: Uint8Array,
  options: EncodeChunkOptions = {},
): Uint8Array<ArrayBuffer> {
  const { format, payload } = encodeChunkParts(raw, options);
  const stored = new Uint8Array(1 + payload.length);
  stored[0] = format;
  stored.set(payload, 1);
  return stored;
}

/**
 * Chunks below this stay raw. A small file is one chunk, and zstd's fixed cost per call (about
 * 80 µs to compress and as much to inflate, through node:zlib in Deno 2.9.6, measured on 10,000
 * files of 100–3,000 B) was a sixth of a push's CPU and most of a pull's decoding, to save at
 * most a couple of KiB per file.
 */
const MIN_COMPRESSED_BYTES = 4 * 1024;

/** Bytes of each sample taken to decide whether compressing a chunk can pay off. */
const PROBE_BYTES = 4 * 1024;

/**
 * Compressing incompressible data (media, archives, ciphertext) costs most of the
 * pipeline's CPU for nothing, so a fast level-1 pass over samples from the start,
 * middle and end decides first. The samples are compressed together, in one call:
 * each zstd call costs about 19 µs of setup in Deno 2.9.6 whatever its size (4 KiB
 * took 18 µs, 12 KiB 21 µs), and their joint ratio is the better guess of the chunk's.
 */
function looksCompressible(raw: Uint8Array): boolean {
  if (raw.length < MIN_COMPRESSED_BYTES) return false;
  if (raw.length <= PROBE_BYTES * 4) return true;
  const sample = new Uint8Array(3 * PROBE_BYTES);
  const starts = [0, (raw.length - PROBE_BYTES) >> 1, raw.length - PROBE_BYTES];
  starts.forEach((start, i) =>
    sample.set(raw.subarray(start, start + PROBE_BYTES), i * PROBE_BYTES)
  );
  const probe = zstdCompressSync(sample, { params: { [constants.ZSTD_c_compressionLevel]: 1 } });
  return probe.length <= sample.length * (1 - MIN_SAVING_FRACTION);
}

/** Options for {@linkcode decodeChunk}. */
export interface DecodeChunkOptions {
  /**
   * The largest raw chunk accepted, in bytes; a stored chunk that claims or inflates
   * to more is refused. {@linkcode DEFAULT_CHUNK_SIZES}.max by default.
   */
  maxRawSize?: number;
}

/**
 * Decodes a stored chunk back to its raw bytes. The result may share memory with
 * `stored`. Throws a {@linkcode TcfsError} of kind `"corrupt_chunk"` when the format
 * byte is unknown, the zstd frame is damaged or truncated, or it would inflate past
 * `maxRawSize`.
 *
 * Callers must still check the result against the chunk id: the codec catches
 * damage to compressed chunks, not to raw ones.
 *
 * @example
 * ```ts
 * const raw = new TextEncoder().encode("hello");
 * const back = await decodeChunk(encodeChunk(raw));
 * console.log(new TextDecoder().decode(back)); // "hello"
 * ```
 */
export function decodeChunk(
  stored: Uint8Array,
  { maxRawSize = DEFAULT_CHUNK_SIZES.max }: DecodeChunkOptions = {},
): Promise<Uint8Array> {
  return Promise.resolve().then(() => decodeChunkSync(stored, maxRawSize));
}

function decodeChunkSync(stored: Uint8Array, maxRawSize: number): Uint8Array {
  if (stored.length === 0) throw corruptChunk("the stored chunk is empty (no format byte)");
  const payload = stored.subarray(1);
  switch (stored[0]) {
    case CHUNK_FORMAT_RAW:
      if (payload.length > maxRawSize) {
        throw corruptChunk(`raw chunk of ${payload.length} bytes exceeds ${maxRawSize} bytes`);
      }
      return payload;
    case CHUNK_FORMAT_ZSTD:
      return inflate(payload, maxRawSize);
    case CHUNK_FORMAT_SEALED:
      throw corruptChunk("a sealed chunk reached the decoder unopened", undefined, BUG_HINT);
    default:
      throw corruptChunk(
        `unknown chunk format byte 0x${hexByte(stored[0])} ` +
          `(expected 0x00 raw or 0x01 zstd)`,
      );
  }
}

/**
 * Output buffer of one decompression at most: what the frame claims, up to this, is made in
 * one piece; a larger claim (only a checkpoint's text makes one) comes in pieces of this size.
 */
const MAX_INFLATE_PIECE_BYTES = 64 * 1024 * 1024;

/**
 * Decompresses synchronously on purpose: in Deno 2.9.6 the async zstdDecompress
 * reports some corrupt frames as an uncaught error and never settles its promise.
 * A 1 MiB chunk inflates in about a millisecond.
 *
 * The output is made in one buffer of the size the frame claims (and a byte, so that a
 * full buffer does not make zlib start another): by default zlib makes it in 16 KiB pieces
 * and copies them into one, and the pieces, freed only when collected, left the allocator's
 * heap fragmented: a 53 MB checkpoint's text kept ~50 MB of RSS for the rest of a pull.
 */
function inflate(frame: Uint8Array, maxRawSize: number): Uint8Array {
  const expected = zstdFrameContentSize(frame);
  if (expected > maxRawSize) {
    throw corruptChunk(`zstd chunk claims ${expected} bytes, more than ${maxRawSize}`);
  }
  let raw: Uint8Array;
  try {
    const inflated = zstdDecompressSync(frame, {
      maxOutputLength: maxRawSize,
      chunkSize: Math.min(expected + 1, MAX_INFLATE_PIECE_BYTES),
    });
    // A plain view, not a Buffer, whose slice() would share memory.
    raw = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  } catch (err) {
    throw corruptChunk(`zstd data is damaged (${(err as Error).message})`, err);
  }
  // zstd stops quietly at a truncated frame's end, so the length is what catches truncation.
  // A cut inside the trailing checksum alone goes unnoticed, but leaves the content whole.
  if (raw.length !== expected) {
    throw corruptChunk(`zstd data is truncated: got ${raw.length} of ${expected} bytes`);
  }
  return raw;
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Reads Frame_Content_Size from a zstd frame header (RFC 8878, section 3.1.1.1).
 * {@linkcode encodeChunk} always records it, so a frame without it is not ours.
 */
function zstdFrameContentSize(frame: Uint8Array): number {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 6 || view.getUint32(0, true) !== ZSTD_MAGIC) {
    throw corruptChunk("zstd chunk does not start with a zstd frame header");
  }
  const descriptor = frame[4];
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3];
  const sizeBytes = [singleSegment, 2, 4, 8][sizeFlag];
  const at = 5 + (singleSegment ? 0 : 1) + dictionaryIdBytes;
  if (sizeBytes === 0 || frame.length < at + sizeBytes) {
    throw corruptChunk("zstd frame header does not record the content size");
  }
  switch (sizeBytes) {
    case 1:
      return view.getUint8(at);
    case 2:
      return view.getUint16(at, true) + 256;
    case 4:
      return view.getUint32(at, true);
    default:
      return Number(view.getBigUint64(at, true));
  }
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

function corruptChunk(
  detail: string,
  cause?: unknown,
  hint = "the stored object is damaged or was not written by tcfs; " +
    "push the file again from a device that has a good copy",
): TcfsError {
  return new TcfsError(`corrupt chunk: ${detail}`, {
    hint,
    kind: "corrupt_chunk",
    cause,
  });
}
