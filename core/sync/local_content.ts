/**
 * The content of a version from what is on disk now: a file (uploaded in
 * chunks), a symlink, or, for a path that is gone, a deletion.
 *
 * @module
 */

import type { LocalEntry } from "./local_scanner.ts";
import type { ChunkUploader } from "./chunk_uploader.ts";
import { saveFile } from "./file_saver.ts";
import type { VersionContent } from "./version_writer.ts";

/**
 * Uploads what `entry` needs and returns the version content; `undefined`
 * means the path was deleted.
 *
 * @example
 * ```ts
 * const content = await localContent(entry, uploader);
 * ```
 */
export async function localContent(
  entry: LocalEntry | undefined,
  uploader: ChunkUploader,
  onBytes: (n: number) => void = () => {},
  storedChunks: ReadonlySet<string> = new Set(),
): Promise<VersionContent> {
  if (!entry) {
    return { kind: "deleted", size: 0, mode: 0, mtime_ms: Date.now(), blake3: "", chunks: [] };
  }
  if (entry.kind === "symlink") {
    return {
      kind: "symlink",
      size: 0,
      mode: entry.mode,
      mtime_ms: entry.mtimeMs,
      blake3: "",
      chunks: [],
      target: entry.target,
    };
  }
  const saved = await saveFile(entry.localPath, uploader, onBytes, storedChunks);
  return { kind: "file", mode: entry.mode, mtime_ms: entry.mtimeMs, ...saved };
}
