/**
 * Turns one local file into what a version records: its digest, size and
 * chunk list. New chunks go into packs; the caller may name them in a version
 * once `durable` settles. The file is streamed; memory stays bounded by the
 * pack writer's uploads.
 *
 * @module
 */

import { fileDigest, smallFileDigest } from "../remote/file_digest.ts";
import type { ChunkRef } from "../remote/file_version.ts";
import type { PackWriter } from "./pack_writer.ts";
import { chunkAgainst, type PrintedChunk } from "./edit_chunker.ts";
import { TcfsError } from "../errors.ts";
import { readUpTo } from "../io/byte_reader.ts";
import { encodeBase64 } from "../encoding/base64.ts";
import { type ChunkHasher, hashChunk, type HashedChunk } from "../hashing/chunk_hasher.ts";

/** Files up to this size travel inside their version: one request instead of two. */
export const INLINE_LIMIT = 16 * 1024;

/** The content part of a version. */
export interface SavedContent {
  blake3: string;
  size: number;
  chunks: ChunkRef[];
  inline?: string;
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
}

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
  using file = await Deno.open(path, { read: true });
  const before = await file.stat();
  const staged = before.size <= INLINE_LIMIT
    ? await stageInline(await readSmall(file, before.size), packs, options.onBytes)
    : await saveChunked(file, before.size, packs, options);
  const after = await Deno.stat(path);
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

/** Inline content: the bytes travel in the version object, uploaded all the same. */
async function stageInline(
  bytes: Uint8Array,
  packs: PackWriter,
  onBytes: (n: number) => void = () => {},
): Promise<StagedContent<SavedContent>> {
  packs.counters.bytesUploaded += bytes.length;
  onBytes(bytes.length);
  const content = {
    blake3: await smallFileDigest(bytes),
    size: bytes.length,
    chunks: [],
    inline: encodeBase64(bytes),
  };
  return { content, durable: Promise.resolve(), prints: [] };
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
  packs: PackWriter,
  { onBytes = () => {}, reuse = {}, hasher }: SaveOptions,
): Promise<StagedContent<SavedContent>> {
  const chunks: ChunkRef[] = [];
  const prints: PrintedChunk[] = [];
  const durable = new Set<Promise<void>>();
  let failed = false;
  const placeOrReuse = async (print: string, hashed: HashedChunk): Promise<PrintedChunk> => {
    const { id, bytes } = hashed;
    const known = await reuse.find?.(id);
    if (known && known.size === bytes.length) return { ...known, print };
    // A file that failed stops filling packs with chunks no version will name.
    if (failed) throw new Error("abandoned: its file failed");
    const placed = await packs.place(id, bytes, hashed.encoded);
    durable.add(placed.durable);
    return { ...placed.ref, print };
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
    onBytes(ref.size);
  };
  try {
    for await (const next of chunkAgainst(file, reuse.previous ?? [], expectedSize)) {
      // Counted first: hashing may move the bytes to the worker.
      bytesAhead += next.kind === "reused" ? next.chunk.size : next.bytes.length;
      let printed: Promise<PrintedChunk>;
      if (next.kind === "reused") printed = Promise.resolve(next.chunk);
      else {
        // Hashes overlap; placing waits for the chunk before, so that neighbours
        // in the file sit side by side in a pack and come down in one range.
        const hashed = hashChunk(next.bytes, hasher, { mayEncode: true });
        const previous = ahead.at(-1);
        printed = Promise.all([hashed, previous]).then(([h]) => placeOrReuse(next.print, h));
        // Until it is settled, a failure surfaces there, not as an unhandled rejection.
        printed.catch(() => {});
      }
      ahead.push(printed);
      while (bytesAhead > LOOKAHEAD_BYTES) await settle();
    }
    while (ahead.length > 0) await settle();
  } catch (err) {
    failed = true;
    throw err;
  }
  const allDurable = Promise.all(durable).then(() => {});
  // A caller that stops before awaiting it must not see an unhandled rejection.
  allDurable.catch(() => {});
  const size = chunks.reduce((n, chunk) => n + chunk.size, 0);
  const content = { blake3: await fileDigest(chunks), size, chunks };
  return { content, durable: allDurable, prints };
}

/**
 * Reads a small file straight into one buffer; a file that grew past the inline
 * limit stops there (the size check then reports the change).
 */
function readSmall(file: Deno.FsFile, size: number): Promise<Uint8Array> {
  return readUpTo(file, new Uint8Array(Math.min(size, INLINE_LIMIT) + 1));
}
