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
import { chunkIdKey } from "../remote/chunk_id_key.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";

/**
 * The chunk-list digest of the file at `path` (see `file_digest.ts`): format 2's, or format
 * 3's with the chunk ids keyed with `idKey`.
 *
 * @example
 * ```ts
 * const digest = await digestLocalFile("/home/me/a.txt");
 * ```
 */
export async function digestLocalFile(path: string, idKey?: Uint8Array): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const chunks: DigestedChunk[] = [];
  for await (const chunk of chunkStream(file)) {
    chunks.push({ id: await blake3Hex(chunk, idKey), size: chunk.length });
  }
  return await fileDigest(chunks);
}

/** What a digest is taken as by {@linkcode localFileHasDigest}. */
export interface DigestKind {
  /** The format of the version the digest comes from; unknown for a digest this device recorded. */
  format?: VersionFormat;
  /** The fleet's keys, for format 3 digests (a sealed namespace's). */
  keys?: FleetKeys;
}

/**
 * True when the file at `path` has `digest`, taken as the given version format's
 * digest. Without a format (a digest this device recorded, perhaps before format 2, or
 * before its namespace was sealed) every kind matches: keyed first when `keys` are given,
 * since a sealed namespace records those from then on.
 *
 * @throws {TcfsError} `not_approved` for a format 3 digest without `keys`.
 *
 * @example
 * ```ts
 * const kind = { format: version.format, keys: ctx.keys };
 * if (await localFileHasDigest(entry.localPath, version.blake3, kind)) adopt();
 * ```
 */
export async function localFileHasDigest(
  path: string,
  digest: string,
  { format, keys }: DigestKind = {},
): Promise<boolean> {
  if (format !== undefined) {
    return format === 1
      ? await plainBlake3OfFile(path) === digest
      : await digestLocalFile(path, chunkIdKey(format, keys)) === digest;
  }
  if (keys && await digestLocalFile(path, keys.idKey) === digest) return true;
  if (await digestLocalFile(path) === digest) return true;
  return await plainBlake3OfFile(path) === digest;
}

/** BLAKE3 of the file's bytes: the digest of format 1 versions. */
async function plainBlake3OfFile(path: string): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const hasher = await createBlake3Hasher();
  for await (const piece of file.readable) hasher.update(piece);
  return hasher.digestHex();
}
