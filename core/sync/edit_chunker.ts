/**
 * Chunks an edited file against its previous version, so that a push of a
 * 1 GiB file with a 1 MiB edit hashes ~1 MiB with BLAKE3 instead of 1 GiB.
 *
 * The result is exactly the chunk list a full FastCDC pass would give. A cut
 * depends only on the bytes from the chunk's start to the cut, so where the
 * file still holds, at a chunk boundary, the bytes of the previous version's
 * next chunk, that chunk is also the next chunk now. Bytes are compared through
 * an XXH3-128 fingerprint recorded at the last sync (~4 GB/s). Where they differ,
 * FastCDC runs from that boundary. A cut chunk whose fingerprint and size are
 * one of the previous chunks' puts the walk back in step after it; that chunk
 * itself is still yielded as new, so the caller's BLAKE3 decides what it is
 * (and finds it among the chunks the store already has). The previous version's
 * last chunk is reused only if the file ends with it: end of file, not content,
 * may have cut it.
 *
 * No BLAKE3 runs here: new chunks are yielded with their bytes, and the caller
 * hashes them (on another thread, for a large push) while the walk goes on.
 *
 * A chunk reused in step is named on its fingerprint alone. The fingerprints
 * are this device's own, taken from bytes it hashed when pushing or checked
 * when pulling, and local files are not adversarial: a file whose owner crafts
 * an XXH3-128 collision gets a version that names the old bytes.
 *
 * @module
 */

import { DEFAULT_CHUNK_SIZES, findChunkBoundary } from "../chunking/fastcdc.ts";
import type { ByteReader } from "../io/byte_reader.ts";
import { createReadWindow } from "../chunking/read_window.ts";
import { xxh128Hex } from "../hashing/xxh128.ts";
import type { ChunkRef } from "../remote/file_version.ts";

/** A chunk of a synced version, with the fingerprint of its raw bytes. */
export interface PrintedChunk extends ChunkRef {
  /** XXH3-128 of the raw bytes, 32 hex digits. */
  print: string;
}

/** The next chunk of the file: one the previous version has, or new bytes. */
export type EditedChunk =
  | { kind: "reused"; chunk: PrintedChunk }
  | { kind: "fresh"; print: string; bytes: Uint8Array<ArrayBuffer> };

/** The read window holds this many of the largest chunk: reads of several MiB each. */
const WINDOW_CHUNKS = 8;

/**
 * Yields the file's chunks in order, reusing `previous` (the last synced
 * version's chunks) wherever the bytes still match. `expectedSize` (the file's
 * size when it was opened) only sizes the read buffer.
 *
 * @example
 * ```ts
 * using file = await Deno.open("disk.img");
 * for await (const next of chunkAgainst(file, printsOfLastSync)) {
 *   if (next.kind === "fresh") await packs.place(await blake3Hex(next.bytes), next.bytes);
 * }
 * ```
 */
export async function* chunkAgainst(
  reader: ByteReader,
  previous: readonly PrintedChunk[],
  expectedSize = Infinity,
): AsyncGenerator<EditedChunk> {
  const sizes = DEFAULT_CHUNK_SIZES;
  const byPrint = new Map(previous.map((chunk, index) => [chunk.print, index]));
  // A full window of the largest chunk makes every cut final; a file smaller than that is
  // read whole instead, one byte past its size to meet its end. So a small file gets a small
  // window: many files are chunked at once, and a push of a real tree allocated 2 MiB for each
  // of its thousand files of 16 KiB to 1 MiB. A window takes in at most 7/8 of its capacity at
  // once (read_window.ts). A file that grew past its size is refused once read (file_saver.ts).
  const need = Math.min(sizes.max, expectedSize + 1);
  const capacity = Math.min(
    WINDOW_CHUNKS * sizes.max,
    need < sizes.max
      ? Math.ceil(need * 8 / 7) + 1
      : (Math.ceil(expectedSize / sizes.max) + 1) * sizes.max,
  );
  const window = createReadWindow(reader, capacity);
  /** Index of the previous chunk that may start at the window's start; -1 while out of step. */
  let inStep = previous.length > 0 ? 0 : -1;
  for (;;) {
    const buffered = await window.fill(need);
    // Every chunk yielded is a copy: the window is done with.
    if (buffered.length === 0) return window.release();
    if (inStep >= 0) {
      const candidate = previous[inStep];
      const isLast = inStep === previous.length - 1;
      const fits = isLast
        ? window.ended && buffered.length === candidate.size
        : buffered.length >= candidate.size;
      if (fits && await xxh128Hex(buffered.subarray(0, candidate.size)) === candidate.print) {
        yield { kind: "reused", chunk: candidate };
        window.consume(candidate.size);
        inStep = isLast ? -1 : inStep + 1;
        continue;
      }
    }
    const cut = findChunkBoundary(buffered, sizes);
    const bytes = buffered.slice(0, cut);
    window.consume(cut);
    const print = await xxh128Hex(bytes);
    const match = byPrint.get(print);
    const resumes = match !== undefined && previous[match].size === cut;
    inStep = resumes && match + 1 < previous.length ? match + 1 : -1;
    yield { kind: "fresh", print, bytes };
  }
}
