/**
 * What a version's `blake3` field holds (format 2): BLAKE3 over the file's
 * chunk list, that is over each chunk's id and size in order. The chunk ids are
 * BLAKE3 of the bytes, so this is a two-level hash tree that commits to every
 * byte of the file, like one BLAKE3 pass over it would. Unlike one pass, it can be
 * brought up to date after an edit by hashing only the chunks that changed,
 * which is what lets a push of an edited 1 GiB file skip re-hashing the rest.
 *
 * Format 1 versions hold a plain BLAKE3 of the file's bytes instead. Format 3 is format 2
 * over keyed chunk ids (`chunk_id_key.ts`): the same hash here, of other ids.
 *
 * @module
 */

import { blake3Hex, createBlake3Hasher } from "../hashing/blake3.ts";
import { decodeBase64 } from "../encoding/base64.ts";

/** Separates this hash from any other BLAKE3 input tcfs makes. */
const DOMAIN = new TextEncoder().encode("tcfs file digest v2\n");

/** The part of a chunk ref the digest covers. */
export interface DigestedChunk {
  id: string;
  size: number;
}

/**
 * The digest of a file made of `chunks` (empty for an empty file; one chunk,
 * the whole file, for a file up to 16 KiB).
 *
 * @example
 * ```ts
 * const digest = await fileDigest([{ id: await blake3Hex(bytes), size: bytes.length }]);
 * ```
 */
export async function fileDigest(chunks: Iterable<DigestedChunk>): Promise<string> {
  const hasher = await createBlake3Hasher();
  hasher.update(DOMAIN);
  const entry = new Uint8Array(40);
  const view = new DataView(entry.buffer);
  for (const chunk of chunks) {
    // Digit by digit: a substring and a parseInt per byte were most of a small file's digest.
    for (let i = 0; i < 32; i++) {
      entry[i] = (hexDigit(chunk.id, 2 * i) << 4) | hexDigit(chunk.id, 2 * i + 1);
    }
    view.setBigUint64(32, BigInt(chunk.size), true);
    hasher.update(entry);
  }
  return hasher.digestHex();
}

/** The value of the lowercase hex digit at `at` in `hex` (chunk ids are lowercase). */
function hexDigit(hex: string, at: number): number {
  const code = hex.charCodeAt(at);
  return code <= 57 ? code - 48 : code - 87;
}

/**
 * The digest of a small file held whole in memory: one chunk, or none when empty. Its chunk
 * id is keyed with `idKey` when one is given (format 3).
 *
 * @example
 * ```ts
 * const digest = await smallFileDigest(new TextEncoder().encode("hello"));
 * ```
 */
export async function smallFileDigest(bytes: Uint8Array, idKey?: Uint8Array): Promise<string> {
  return await fileDigest(
    bytes.length === 0 ? [] : [{ id: await blake3Hex(bytes, idKey), size: bytes.length }],
  );
}

/**
 * The chunk-list digest of what a version holds, from its chunk list or its inline
 * bytes; inline bytes get their id keyed with `idKey` when one is given (format 3).
 * Chunk ids are plain BLAKE3 of the bytes in formats 1 and 2, so this also gives the
 * format-2 digest of a format-1 version.
 *
 * @example
 * ```ts
 * const digest = await contentDigest({ chunks: [], inline: "aGVsbG8=" });
 * ```
 */
export async function contentDigest(
  content: { chunks: readonly DigestedChunk[]; inline?: string },
  idKey?: Uint8Array,
): Promise<string> {
  return content.inline === undefined
    ? await fileDigest(content.chunks)
    : await smallFileDigest(decodeBase64(content.inline), idKey);
}
