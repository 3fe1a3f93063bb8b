/**
 * Materialises a version on disk: every chunk and the whole file are checked
 * against BLAKE3 (the file through its digest, `file_digest.ts`) before anything replaces the local file, and the
 * replacement is atomic (temp file, fsync, rename). A failure at any point
 * leaves the old file exactly as it was.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import type { ObjectStore } from "../store/object_store.ts";
import { type ChunkRef, type FileVersion, MAX_STORED_CHUNK_BYTES } from "../remote/file_version.ts";
import { chunkKey, packKey } from "../remote/remote_keys.ts";
import { decodeChunk } from "../chunking/chunk_codec.ts";
import { createBlake3Hasher } from "../hashing/blake3.ts";
import { type ChunkHasher, hashChunk } from "../hashing/chunk_hasher.ts";
import { decodeBase64 } from "../encoding/base64.ts";
import { xxh128Hex } from "../hashing/xxh128.ts";
import type { PrintedChunk } from "./edit_chunker.ts";
import { contentDigest } from "../remote/file_digest.ts";
import { restoredMode } from "./restored_mode.ts";
import { assertLinkTargetInside } from "../paths/confined_path.ts";
import { TcfsError } from "../errors.ts";

/** Ranges fetched ahead of the one being written, per file. */
const DOWNLOAD_WINDOW = 4;

/**
 * Neighbouring chunks of one pack are fetched together, up to this many bytes
 * stored and, once decoded, raw (compressed chunks would otherwise multiply it).
 */
const MAX_RANGE_BYTES = 4 * 1024 * 1024;

/** Counters a pull reports. */
export interface DownloadCounters {
  chunksDownloaded: number;
  bytesDownloaded: number;
}

/** Options for {@linkcode restoreVersion}. */
export interface RestoreOptions {
  counters: DownloadCounters;
  onBytes?: (n: number) => void;
  /** Checks chunk ids, on another thread once a pull is large; chunks are hashed in place without it. */
  hasher?: ChunkHasher;
  /**
   * Called just before the rename; throwing aborts the replacement (used to
   * notice that the user edited the local file during the download).
   */
  beforeReplace?: () => Promise<void>;
}

/**
 * Writes `version` (a file or a symlink) to `target`. Returns the file's chunks
 * fingerprinted as they were written, for the next push of an edit to reuse.
 *
 * @example
 * ```ts
 * await restoreVersion(store, version, "/home/me/Sync/a.txt", { counters });
 * ```
 */
export async function restoreVersion(
  store: ObjectStore,
  version: FileVersion,
  target: string,
  options: RestoreOptions,
): Promise<PrintedChunk[]> {
  await Deno.mkdir(dirname(target), { recursive: true });
  const temp = join(
    dirname(target),
    `.${basename(target)}.tcfs-tmp-${crypto.randomUUID().slice(0, 8)}`,
  );
  try {
    let prints: PrintedChunk[] = [];
    if (version.kind === "symlink") {
      assertLinkTargetInside(version.path, version.target!);
      await Deno.symlink(version.target!, temp);
    } else {
      prints = await writeVerifiedFile(store, version, temp, options);
    }
    await options.beforeReplace?.();
    await Deno.rename(temp, target);
    return prints;
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

async function writeVerifiedFile(
  store: ObjectStore,
  version: FileVersion,
  temp: string,
  options: RestoreOptions,
): Promise<PrintedChunk[]> {
  using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  // Format 1 digests are a plain BLAKE3 of the bytes; format 2 digests cover the
  // chunk list, whose every chunk is checked against its id as it arrives.
  const plainHasher = version.format === 1 ? await createBlake3Hasher() : undefined;
  const prints: PrintedChunk[] = [];
  const write = async (bytes: Uint8Array) => {
    plainHasher?.update(bytes);
    for (let offset = 0; offset < bytes.length;) {
      offset += await file.write(bytes.subarray(offset));
    }
    options.onBytes?.(bytes.length);
  };
  if (version.inline !== undefined) {
    const bytes = decodeBase64(version.inline);
    options.counters.bytesDownloaded += bytes.length;
    await write(bytes);
  } else {
    const ranges = groupIntoRanges(version.chunks);
    const fetches: Promise<Uint8Array[]>[] = [];
    const fetchAt = (i: number) => {
      if (i < ranges.length) {
        fetches[i] = fetchRange(store, version, ranges[i], options);
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
          const ref = ranges[i].refs[j];
          await write(bytes);
          prints.push({ ...ref, print: await xxh128Hex(bytes) });
        }
      }
    } finally {
      // Let outstanding fetches settle before the temp file is removed.
      await Promise.allSettled(fetches.filter(Boolean));
    }
  }
  // Every chunk was written, in order, after its id checked out.
  const digest = plainHasher ? plainHasher.digestHex() : await contentDigest(version);
  if (digest !== version.blake3) {
    throw new TcfsError(
      `${version.path}: the assembled file does not match its digest; the local file was left untouched`,
      {
        kind: "corrupt_file",
        hint: "the remote version is damaged; push it again from a device that has it",
      },
    );
  }
  await file.sync();
  await Deno.chmod(temp, restoredMode(version.mode));
  const mtime = new Date(version.mtime_ms);
  await file.utime(mtime, mtime);
  return prints;
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
}

/** Groups a file's chunks into requests: consecutive chunks of one pack share a range. */
function groupIntoRanges(refs: ChunkRef[]): ChunkRange[] {
  const ranges: ChunkRange[] = [];
  for (const ref of refs) {
    const last = ranges.at(-1);
    if (ref.pack === undefined) {
      ranges.push({ key: chunkKey(ref.id), length: 0, rawBytes: ref.size, refs: [ref] });
    } else if (
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
      });
    }
  }
  return ranges;
}

/** Fetches one range and returns its chunks' raw bytes, each checked against its id. */
async function fetchRange(
  store: ObjectStore,
  version: FileVersion,
  range: ChunkRange,
  options: RestoreOptions,
): Promise<Uint8Array[]> {
  const stored = range.offset === undefined
    ? await store.get(range.key, { maxBytes: MAX_STORED_CHUNK_BYTES })
    : await store.getRange(range.key, range.offset, range.length);
  const first = range.refs[0].id;
  if (!stored) {
    throw new TcfsError(
      `${version.path}: ${range.key} (chunk ${first}) is missing from the store`,
      {
        kind: "missing_chunk",
        hint: "the local file was left untouched; push the file again from a device that has it",
      },
    );
  }
  options.counters.bytesDownloaded += stored.length;
  options.counters.chunksDownloaded += range.refs.length;
  const check = (ref: ChunkRef, piece: Uint8Array) =>
    checkedChunk(version, ref, piece, options.hasher);
  if (range.offset === undefined) return [await check(range.refs[0], stored)];
  let at = 0;
  const pieces = range.refs.map((ref) => {
    const piece = stored.subarray(at, at + ref.length!);
    at += ref.length!;
    if (piece.length !== ref.length) throw corruptChunk(version, ref, "the pack is too short");
    return piece;
  });
  // All of the range's chunks go to the hasher at once.
  return await Promise.all(range.refs.map((ref, i) => check(ref, pieces[i])));
}

/** The chunk's raw bytes, once they match its size and id. */
async function checkedChunk(
  version: FileVersion,
  ref: ChunkRef,
  stored: Uint8Array,
  hasher: ChunkHasher | undefined,
): Promise<Uint8Array> {
  const raw = await decodeChunk(stored);
  if (raw.length !== ref.size) throw corruptChunk(version, ref, "wrong size");
  const { id, bytes } = await hashChunk(raw, hasher);
  if (id !== ref.id) throw corruptChunk(version, ref, "BLAKE3 mismatch");
  return bytes;
}

function corruptChunk(version: FileVersion, ref: ChunkRef, why: string): TcfsError {
  return new TcfsError(
    `${version.path}: chunk ${ref.id} is corrupt (${why}); the local file was left untouched`,
    { kind: "corrupt_chunk", hint: "push the file again from a device that has a good copy" },
  );
}
