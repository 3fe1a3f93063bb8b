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

/** Chunks already in the store that a push may name instead of uploading. */
export interface ChunkReuse {
  /** The chunks of the version the local file had at its last sync, fingerprinted. */
  previous?: readonly PrintedChunk[];
  /** Chunks of versions read from the store for this path, by id. */
  known?: ReadonlyMap<string, ChunkRef>;
  /** Looks up any other chunk the store is known to hold. */
  find?: (id: string) => ChunkRef | undefined;
}

/**
 * Reads `path`, places its new chunks in packs and returns what the version
 * needs. `onBytes` reports progress as the file is read; chunks that `reuse`
 * offers are named as they are, without uploading them again.
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
  onBytes: (n: number) => void = () => {},
  reuse: ChunkReuse = {},
): Promise<StagedContent<SavedContent>> {
  using file = await Deno.open(path, { read: true });
  const before = await file.stat();
  const staged = before.size <= INLINE_LIMIT
    ? await stageInline(await readSmall(file, before.size), packs, onBytes)
    : await saveChunked(file, before.size, packs, onBytes, reuse);
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
  onBytes: (n: number) => void,
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

async function saveChunked(
  file: Deno.FsFile,
  expectedSize: number,
  packs: PackWriter,
  onBytes: (n: number) => void,
  reuse: ChunkReuse,
): Promise<StagedContent<SavedContent>> {
  const chunks: ChunkRef[] = [];
  const prints: PrintedChunk[] = [];
  const durable = new Set<Promise<void>>();
  let size = 0;
  for await (const next of chunkAgainst(file, reuse.previous ?? [], expectedSize)) {
    let printed: PrintedChunk;
    if (next.kind === "reused") {
      printed = next.chunk;
    } else {
      const known = reuse.known?.get(next.id) ?? reuse.find?.(next.id);
      if (known && known.size === next.bytes.length) {
        printed = { ...known, print: next.print };
      } else {
        const placed = await packs.place(next.id, next.bytes);
        printed = { ...placed.ref, print: next.print };
        durable.add(placed.durable);
      }
    }
    const { print: _, ...ref } = printed;
    chunks.push(ref);
    prints.push(printed);
    size += ref.size;
    onBytes(ref.size);
  }
  const allDurable = Promise.all(durable).then(() => {});
  // A caller that stops before awaiting it must not see an unhandled rejection.
  allDurable.catch(() => {});
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
