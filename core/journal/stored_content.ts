/**
 * The content of a stored version, to be written again as another version (a conflict's
 * winner, a kept copy brought onto its original).
 *
 * @module
 */

import { contentDigest } from "../remote/file_digest.ts";
import { VERSION_FORMAT } from "../remote/file_version.ts";
import type { StoredVersion } from "./stored_version.ts";
import type { VersionContent } from "./version_batch.ts";

/**
 * What `head` holds, ready for `writeVersion`.
 *
 * @example
 * ```ts
 * const content = await storedContent(head);
 * await writeVersion(ctx, "notes.txt", content, {}, seen, { coverOnlySeen: true });
 * ```
 */
export async function storedContent(head: StoredVersion): Promise<VersionContent> {
  const version = head.version;
  const { kind, size, mode, mtime_ms, chunks, inline, target } = version;
  // A format 1 version's content goes into a format 2 one, whose digest covers the chunk list
  // (the ids are plain BLAKE3 in both). Others keep their format: it says how their ids are
  // hashed (a version from before its namespace was sealed names plain ids).
  if (version.format === 1 && kind === "file") {
    const blake3 = await contentDigest(version);
    return { kind, size, mode, mtime_ms, blake3, chunks, inline, target, format: VERSION_FORMAT };
  }
  const { blake3, format } = version;
  return { kind, size, mode, mtime_ms, blake3, chunks, inline, target, format };
}
