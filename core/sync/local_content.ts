/**
 * The content of a version from what is on disk now: a file (its new chunks
 * placed in packs), a symlink, or, for a path that is gone, a deletion.
 *
 * @module
 */

import type { LocalEntry } from "./local_scanner.ts";
import type { PackWriter } from "./pack_writer.ts";
import { saveFile, type SaveOptions, type StagedContent } from "./file_saver.ts";
import type { VersionContent } from "../journal/version_batch.ts";
import { versionMtime } from "../remote/file_version.ts";

const NOTHING_TO_UPLOAD = Promise.resolve();

/**
 * The content of a deletion, made now.
 *
 * @example
 * ```ts
 * await writeVersion(ctx, "old.txt", deletionContent(), {}, seen, { coverOnlySeen: true });
 * ```
 */
export function deletionContent(): VersionContent {
  return { kind: "deleted", size: 0, mode: 0, mtime_ms: Date.now(), blake3: "", chunks: [] };
}

/**
 * Reads what `entry` needs and returns the version content, with the promise
 * that its chunks are in the store; `undefined` means the path was deleted.
 *
 * @example
 * ```ts
 * const { content, durable } = await localContent(entry, packs);
 * ```
 */
export async function localContent(
  entry: LocalEntry | undefined,
  packs: PackWriter,
  options: SaveOptions = {},
): Promise<StagedContent<VersionContent>> {
  if (!entry) return { content: deletionContent(), durable: NOTHING_TO_UPLOAD, prints: [] };
  if (entry.kind === "symlink") {
    const content: VersionContent = {
      kind: "symlink",
      size: 0,
      mode: entry.mode,
      mtime_ms: versionMtime(entry.mtimeMs),
      blake3: "",
      chunks: [],
      target: entry.target,
    };
    return { content, durable: NOTHING_TO_UPLOAD, prints: [] };
  }
  const saved = await saveFile(entry.localPath, packs, options);
  return {
    ...saved,
    content: {
      kind: "file",
      mode: entry.mode,
      mtime_ms: versionMtime(entry.mtimeMs),
      ...saved.content,
    },
  };
}

/**
 * {@linkcode localContent} for a single path, returning once its chunks are in the store.
 *
 * @example
 * ```ts
 * const content = await durableLocalContent(entry, createPackWriter(store), { idKey });
 * ```
 */
export async function durableLocalContent(
  entry: LocalEntry | undefined,
  packs: PackWriter,
  options: SaveOptions = {},
): Promise<VersionContent> {
  const { content, durable } = await localContent(entry, packs, options);
  packs.flush();
  await durable;
  return content;
}
