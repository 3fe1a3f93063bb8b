/**
 * Materialises a version on disk: every chunk and the whole file are checked
 * against BLAKE3 before anything replaces the local file, and the
 * replacement is atomic (temp file, fsync, rename). A failure at any point
 * leaves the old file exactly as it was.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import type { ObjectStore } from "../store/object_store.ts";
import type { ChunkRef, FileVersion } from "../remote/file_version.ts";
import { chunkKey } from "../remote/remote_keys.ts";
import { decodeChunk } from "../chunking/chunk_codec.ts";
import { blake3Hex, createBlake3Hasher } from "../hashing/blake3.ts";
import { decodeBase64 } from "../encoding/base64.ts";
import { assertLinkTargetInside } from "../paths/confined_path.ts";
import { TcfsError } from "../errors.ts";

/** Chunks fetched ahead of the one being written. */
const DOWNLOAD_WINDOW = 8;

/** Counters a pull reports. */
export interface DownloadCounters {
  chunksDownloaded: number;
  bytesDownloaded: number;
}

/** Options for {@linkcode restoreVersion}. */
export interface RestoreOptions {
  counters: DownloadCounters;
  onBytes?: (n: number) => void;
  /**
   * Called just before the rename; throwing aborts the replacement (used to
   * notice that the user edited the local file during the download).
   */
  beforeReplace?: () => Promise<void>;
}

/**
 * Writes `version` (a file or a symlink) to `target`.
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
): Promise<void> {
  await Deno.mkdir(dirname(target), { recursive: true });
  const temp = join(
    dirname(target),
    `.${basename(target)}.tcfs-tmp-${crypto.randomUUID().slice(0, 8)}`,
  );
  try {
    if (version.kind === "symlink") {
      assertLinkTargetInside(version.path, version.target!);
      await Deno.symlink(version.target!, temp);
    } else {
      await writeVerifiedFile(store, version, temp, options);
    }
    await options.beforeReplace?.();
    await Deno.rename(temp, target);
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
): Promise<void> {
  using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  const hasher = await createBlake3Hasher();
  const write = async (bytes: Uint8Array) => {
    hasher.update(bytes);
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
    const fetches: Promise<Uint8Array>[] = [];
    const fetchAt = (i: number) => {
      if (i < version.chunks.length) {
        fetches[i] = fetchChunk(store, version, version.chunks[i], options);
        // A fetch that fails before its turn is reported when awaited, not as an
        // unhandled rejection that would kill the process.
        fetches[i].catch(() => {});
      }
    };
    for (let i = 0; i < DOWNLOAD_WINDOW; i++) fetchAt(i);
    try {
      for (let i = 0; i < version.chunks.length; i++) {
        const bytes = await fetches[i];
        delete fetches[i];
        fetchAt(i + DOWNLOAD_WINDOW);
        await write(bytes);
      }
    } finally {
      // Let outstanding fetches settle before the temp file is removed.
      await Promise.allSettled(fetches.filter(Boolean));
    }
  }
  if (hasher.digestHex() !== version.blake3) {
    throw new TcfsError(
      `${version.path}: the assembled file does not match its BLAKE3; the local file was left untouched`,
      {
        kind: "corrupt_file",
        hint: "the remote version is damaged; push it again from a device that has it",
      },
    );
  }
  await file.sync();
  await Deno.chmod(temp, version.mode & 0o7777);
  const mtime = new Date(version.mtime_ms);
  await file.utime(mtime, mtime);
}

async function fetchChunk(
  store: ObjectStore,
  version: FileVersion,
  ref: ChunkRef,
  options: RestoreOptions,
): Promise<Uint8Array> {
  const stored = await store.get(chunkKey(ref.id));
  if (!stored) {
    throw new TcfsError(`${version.path}: chunk ${ref.id} is missing from the store`, {
      kind: "missing_chunk",
      hint: "the local file was left untouched; push the file again from a device that has it",
    });
  }
  const raw = await decodeChunk(stored);
  if (raw.length !== ref.size || await blake3Hex(raw) !== ref.id) {
    throw new TcfsError(
      `${version.path}: chunk ${ref.id} is corrupt (BLAKE3 mismatch); the local file was left untouched`,
      { kind: "corrupt_chunk", hint: "push the file again from a device that has a good copy" },
    );
  }
  options.counters.chunksDownloaded++;
  options.counters.bytesDownloaded += stored.length;
  return raw;
}
