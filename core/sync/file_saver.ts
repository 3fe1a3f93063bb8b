/**
 * Turns one local file into what a version records: its BLAKE3, size and
 * chunk list, with every chunk uploaded before the caller may name it.
 * The file is streamed; memory stays bounded by the upload window.
 *
 * @module
 */

import { chunkStream } from "../chunking/fastcdc.ts";
import { blake3Hex, createBlake3Hasher } from "../hashing/blake3.ts";
import type { ChunkRef } from "../remote/file_version.ts";
import type { ChunkUploader } from "./chunk_uploader.ts";
import { TcfsError } from "../errors.ts";
import { encodeBase64 } from "../encoding/base64.ts";

/** Files up to this size travel inside their version: one request instead of two. */
export const INLINE_LIMIT = 16 * 1024;

/** Chunks read ahead of the slowest pending upload, per file. */
const UPLOAD_WINDOW = 8;

/** After this many new chunks in a row, a file stops asking the store whether chunks exist. */
const NEW_CONTENT_STREAK = 4;

/** The content part of a version. */
export interface SavedContent {
  blake3: string;
  size: number;
  chunks: ChunkRef[];
  inline?: string;
}

/**
 * Reads `path`, uploads its chunks and returns what the version needs.
 * `onBytes` reports progress as the file is read; `storedChunks` are ids
 * known to be in the store already (the previous version's).
 *
 * @example
 * ```ts
 * const content = await saveFile("/home/me/a.bin", uploader);
 * ```
 */
export async function saveFile(
  path: string,
  uploader: ChunkUploader,
  onBytes: (n: number) => void = () => {},
  storedChunks: ReadonlySet<string> = new Set(),
): Promise<SavedContent> {
  using file = await Deno.open(path, { read: true });
  const before = await file.stat();
  let content: SavedContent;
  if (before.size <= INLINE_LIMIT) {
    const bytes = await readAll(file);
    // Inline bytes travel in the version object: they are uploaded all the same.
    uploader.counters.bytesUploaded += bytes.length;
    onBytes(bytes.length);
    content = {
      blake3: await blake3Hex(bytes),
      size: bytes.length,
      chunks: [],
      inline: encodeBase64(bytes),
    };
  } else {
    content = await saveChunked(file, uploader, onBytes, storedChunks);
  }
  const after = await Deno.stat(path);
  if (after.size !== content.size || after.mtime?.getTime() !== before.mtime?.getTime()) {
    throw new TcfsError(`${path} changed while it was being read`, {
      kind: "file_changed",
      hint: "it will be pushed on the next run, once it is quiet",
    });
  }
  return content;
}

/**
 * Hashes a file without uploading anything (to compare with a remote version).
 *
 * @example
 * ```ts
 * const hash = await hashFile("/home/me/a.txt");
 * ```
 */
export async function hashFile(path: string): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const hasher = await createBlake3Hasher();
  for await (const piece of file.readable) hasher.update(piece);
  return hasher.digestHex();
}

async function saveChunked(
  file: Deno.FsFile,
  uploader: ChunkUploader,
  onBytes: (n: number) => void,
  storedChunks: ReadonlySet<string>,
): Promise<SavedContent> {
  const hasher = await createBlake3Hasher();
  const chunks: ChunkRef[] = [];
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let size = 0;
  let newStreak = 0;
  for await (const chunk of chunkStream(file.readable)) {
    hasher.update(chunk);
    size += chunk.length;
    const id = await blake3Hex(chunk);
    chunks.push({ id, size: chunk.length });
    if (storedChunks.has(id)) {
      onBytes(chunk.length);
      continue;
    }
    const check = newStreak < NEW_CONTENT_STREAK ? "check" : "skip-check";
    const upload = uploader.upload(id, chunk, check).then(
      (uploaded) => {
        newStreak = uploaded ? newStreak + 1 : 0;
        onBytes(chunk.length);
      },
      (err) => (failure ??= err),
    ).finally(() => pending.delete(upload));
    pending.add(upload);
    if (pending.size >= UPLOAD_WINDOW) await Promise.race(pending);
    if (failure) break;
  }
  await Promise.all(pending);
  if (failure) throw failure;
  return { blake3: hasher.digestHex(), size, chunks };
}

async function readAll(file: Deno.FsFile): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const piece of file.readable) parts.push(piece);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
