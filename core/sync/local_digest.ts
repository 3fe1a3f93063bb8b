/**
 * Whether a file on disk holds the content a digest names, without uploading
 * anything: for telling an unchanged file from an edited one, and local content
 * from a remote version.
 *
 * @module
 */

import { chunkStream } from "../chunking/fastcdc.ts";
import { blake3Hex, createBlake3Hasher } from "../hashing/blake3.ts";
import { type DigestedChunk, fileDigest } from "../remote/file_digest.ts";
import type { VersionFormat } from "../remote/file_version.ts";

/**
 * The format-2 digest of the file at `path` (see `file_digest.ts`).
 *
 * @example
 * ```ts
 * const digest = await digestLocalFile("/home/me/a.txt");
 * ```
 */
export async function digestLocalFile(path: string): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const chunks: DigestedChunk[] = [];
  for await (const chunk of chunkStream(file)) {
    chunks.push({ id: await blake3Hex(chunk), size: chunk.length });
  }
  return await fileDigest(chunks);
}

/**
 * True when the file at `path` has `digest`, taken as the given version format's
 * digest. Without a format (a digest this device recorded, perhaps before format 2)
 * either kind matches.
 *
 * @example
 * ```ts
 * if (await localFileHasDigest(entry.localPath, version.blake3, version.format)) adopt();
 * ```
 */
export async function localFileHasDigest(
  path: string,
  digest: string,
  format?: VersionFormat,
): Promise<boolean> {
  if (format !== 1 && await digestLocalFile(path) === digest) return true;
  return format !== 2 && await plainBlake3OfFile(path) === digest;
}

/** BLAKE3 of the file's bytes: the digest of format 1 versions. */
async function plainBlake3OfFile(path: string): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const hasher = await createBlake3Hasher();
  for await (const piece of file.readable) hasher.update(piece);
  return hasher.digestHex();
}
