/**
 * Turns one local file into what a version records: its digest, size and
 * chunk list. New chunks go into packs; the caller may name them in a version
 * once `durable` settles. The file is streamed; memory stays bounded by the
 * pack writer's uploads.
 *
 * @module
 */

import { fileDigest } from "../remote/file_digest.ts";
import type { ChunkRef } from "../remote/file_version.ts";
import { isLargeFile, type PackWriter } from "./pack_writer.ts";
import { chunkAgainst, type PrintedChunk } from "./edit_chunker.ts";
import { TcfsError } from "../errors.ts";
import { readUpToSync } from "../io/byte_reader.ts";
import { xxh128Hex } from "../hashing/xxh128.ts";
import { type ChunkHasher, hashChunk, type HashedChunk } from "../hashing/chunk_hasher.ts";

/**
 * Files up to this size are one chunk, read in one go: no content-defined cut can fall
 * in them (FastCDC's minimum is larger), and the file digest counts them as one chunk.
 */
export const SMALL_FILE_LIMIT = 16 * 1024;

/** The content part of a version. */
export interface SavedContent {
  blake3: string;
  size: number;
  chunks: ChunkRef[];
}

/**
 * Content read from disk, the promise that its chunks are all in the store, and
 * the fingerprinted chunks that the next push of an edit can reuse.
 */
export interface StagedContent<T> {
  content: T;
  durable: Promise<void>;
  prints: PrintedChunk[];
}

/** How {@linkcode saveFile} reports progress, finds chunks to reuse and hashes new ones. */
export interface SaveOptions {
  /** Called with each chunk's size (or a small file's) as the file is read. */
  onBytes?: (n: number) => void;
  /** Chunks a push may name instead of uploading them again. */
  reuse?: ChunkReuse;
  /** The push's hasher, which may hash on another thread; chunks are hashed in place without one. */
  hasher?: ChunkHasher;
  /**
   * The key of the chunk ids: a sealed namespace's (`FleetKeys.idKey`), whose versions name
   * keyed ids (format 3). Plain BLAKE3 ids without.
   */
  idKey?: Uint8Array;
  /**
   * Chunk bytes read ahead of their placing, shared by the files saved at once (one push's):
   * each file runs ahead only while they add up to less than {@linkcode SHARED_LOOKAHEAD_BYTES}.
   * Without it, each file runs up to its own limit.
   */
  lookahead?: SharedLookahead;
}

/** What the files saved at once have read ahead of their placing: {@linkcode SaveOptions.lookahead}. */
export interface SharedLookahead {
  bytes: number;
}

/**
 * How far the files saved at once may run ahead together. Each file may have one chunk ahead
 * whatever the others hold, so none waits on another: the bound is this plus one chunk per
 * file. 32 files each 4 MiB ahead held 128 MiB of a push's 255 MB of ArrayBuffers on the real
 * tree; the hashing worker takes at most 16 MiB at once, so more ahead than that feeds nothing.
 */
export const SHARED_LOOKAHEAD_BYTES = 16 * 1024 * 1024;

/** Chunks already in the store that a push may name instead of uploading. */
export interface ChunkReuse {
  /** The chunks of the version the local file had at its last sync, fingerprinted. */
  previous?: readonly PrintedChunk[];
  /** Looks up a chunk the store is known to hold. */
  find?: (id: string) => Promise<ChunkRef | undefined>;
}

/**
 * Reads `path`, places its new chunks in packs and returns what the version
 * needs. Chunks that `options.reuse` offers are named as they are, without
 * uploading them again.
 *
 * @example
 * ```ts
 * const { content, durable } = await saveFile("/home/me/a.bin", packs);
 * packs.flush();
 * await durable;
 * ```
 */
export async function saveFile(
  path: string,
  packs: PackWriter,
  options: SaveOptions = {},
): Promise<StagedContent<SavedContent>> {
  // Synchronous opens, stats and small reads: each takes microseconds, less than an awaited
  // call's hand-off to a thread, and a push of many small files is made of little else.
  using file = Deno.openSync(path, { read: true });
  let before = file.statSync();
  // A file that fills packs gets them to itself (pack_writer.ts), so that a reader fetches it in
  // whole packs. The wait for a lane is no part of the read: the stat is taken again after it.
  using lane = isLargeFile(before.size) ? await packs.lane() : undefined;
  if (lane) before = file.statSync();
  const staged = before.size <= SMALL_FILE_LIMIT
    ? await saveSmall(readSmall(file, before.size), packs, options)
    : await saveChunked(file, before.size, lane ?? packs, options);
  const after = Deno.statSync(path);
  if (
    after.size !== staged.content.size || after.mtime?.getTime() !== before.mtime?.getTime()
  ) {
    throw new TcfsError(`${path} changed while it was being read`, {
      kind: "file_changed",
      hint: "it will be pushed on the next run, once it is quiet",
    });
  }
  return staged;
}

/**
 * A small file is one chunk in a pack like any other, so that a push of many small files
 * writes a few packs and a pull reads them back in a few ranges. The previous version's one
 * chunk is reused on its fingerprint, as the edit walk would; an empty file has no chunk.
 */
async function saveSmall(
  bytes: Uint8Array,
  packs: PackWriter,
  { onBytes = () => {}, reuse = {}, hasher, idKey }: SaveOptions,
): Promise<StagedContent<SavedContent>> {
  // Read before placing, which may free the bytes.
  const size = bytes.length;
  onBytes(size);
  if (size === 0) {
    const content = { blake3: await fileDigest([]), size: 0, chunks: [] };
    return { content, durable: Promise.resolve(), prints: [] };
  }
  const print = await xxh128Hex(bytes);
  const [previous] = reuse.previous ?? [];
  let chunk: ChunkRef;
  let durable = Promise.resolve();
  if (reuse.previous?.length === 1 && previous.size === size && previous.print === print) {
    const { print: _, ...ref } = previous;
    chunk = ref;
  } else {
    const hashed = await hashChunk(bytes, hasher, { mayEncode: true, idKey });
    const stored = await placeOrReuse(hashed, packs, reuse);
    chunk = stored.ref;
    durable = stored.durable ?? durable;
  }
  const content = { blake3: await fileDigest([chunk]), size, chunks: [chunk] };
  return { content, durable, prints: [{ ...chunk, print }] };
}

/**
 * Names `hashed` where the store already holds it, or places it in the open pack, which takes
 * its memory: the chunk's bytes are this file's own (read for it alone), and freeing them as
 * soon as they are sealed or packed keeps a push's memory down without full collections.
 * `durable` is absent for a chunk already stored.
 */
async function placeOrReuse(
  hashed: HashedChunk,
  packs: Pick<PackWriter, "place">,
  reuse: ChunkReuse,
  abandoned = () => false,
): Promise<{ ref: ChunkRef; durable?: Promise<void> }> {
  const { id, bytes } = hashed;
  const known = await reuse.find?.(id);
  if (known && known.size === bytes.length) return { ref: known };
  // A file that failed stops filling packs with chunks no version will name.
  if (abandoned()) throw new Error("abandoned: its file failed");
  return await packs.place(id, bytes, hashed.encoded, true);
}

/**
 * How far a file's chunking may run ahead of its chunks being hashed and
 * placed: ~16 average chunks keep the hashing worker busy while this thread cuts
 * and packs (4 chunks: ~10% slower). The hasher bounds what all files together
 * have waiting on the worker.
 */
const LOOKAHEAD_BYTES = 4 * 1024 * 1024;

async function saveChunked(
  file: Deno.FsFile,
  expectedSize: number,
  packs: Pick<PackWriter, "place">,
  { onBytes = () => {}, reuse = {}, hasher, idKey, lookahead = { bytes: 0 } }: SaveOptions,
): Promise<StagedContent<SavedContent>> {
  const chunks: ChunkRef[] = [];
  const prints: PrintedChunk[] = [];
  const durable = new Set<Promise<void>>();
  let failed = false;
  const placed = async (print: string, hashed: HashedChunk): Promise<PrintedChunk> => {
    const { ref, durable: landed } = await placeOrReuse(hashed, packs, reuse, () => failed);
    if (landed) durable.add(landed);
    return { ...ref, print };
  };
  /** Chunks in file order, the new ones still being hashed and placed. */
  const ahead: Promise<PrintedChunk>[] = [];
  let bytesAhead = 0;
  const settle = async () => {
    const printed = await ahead.shift()!;
    const { print: _, ...ref } = printed;
    chunks.push(ref);
    prints.push(printed);
    bytesAhead -= ref.size;
    lookahead.bytes -= ref.size;
    onBytes(ref.size);
  };
  try {
    for await (const next of chunkAgainst(file, reuse.previous ?? [], expectedSize)) {
      // Counted first: hashing may move the bytes to the worker.
      const size = next.kind === "reused" ? next.chunk.size : next.bytes.length;
      bytesAhead += size;
      lookahead.bytes += size;
      let printed: Promise<PrintedChunk>;
      if (next.kind === "reused") printed = Promise.resolve(next.chunk);
      else {
        // Hashes overlap; placing waits for the chunk before, so that neighbours
        // in the file sit side by side in a pack and come down in one range.
        const hashed = hashChunk(next.bytes, hasher, { mayEncode: true, idKey });
        const previous = ahead.at(-1);
        printed = Promise.all([hashed, previous]).then(([h]) => placed(next.print, h));
        // Until it is settled, a failure surfaces there, not as an unhandled rejection.
        printed.catch(() => {});
      }
      ahead.push(printed);
      while (
        bytesAhead > LOOKAHEAD_BYTES ||
        (ahead.length > 1 && lookahead.bytes > SHARED_LOOKAHEAD_BYTES)
      ) await settle();
    }
    while (ahead.length > 0) await settle();
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // A file that failed gives back what it still had ahead.
    lookahead.bytes -= bytesAhead;
  }
  const allDurable = Promise.all(durable).then(() => {});
  // A caller that stops before awaiting it must not see an unhandled rejection.
  allDurable.catch(() => {});
  const size = chunks.reduce((n, chunk) => n + chunk.size, 0);
  const content = { blake3: await fileDigest(chunks), size, chunks };
  return { content, durable: allDurable, prints };
}

/**
 * Reads a small file straight into one buffer; a file that grew past the small-file
 * limit stops there (the size check then reports the change).
 */
function readSmall(file: Deno.FsFile, size: number): Uint8Array {
  return readUpToSync(file, new Uint8Array(Math.min(size, SMALL_FILE_LIMIT) + 1));
}
