/**
 * A version: one immutable record of one path's content (or deletion) as one
 * device saw it, with the vector clock that orders it against other versions.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { assertSafeRelPath } from "../paths/remote_path.ts";
import { isVectorClock, type VectorClock } from "../vclock/vector_clock.ts";
import { DEFAULT_CHUNK_SIZES } from "../chunking/fastcdc.ts";

/**
 * Wire format written now in a plaintext namespace. Format 2 made `blake3` the digest of the
 * chunk list (`file_digest.ts`); format 1 held a plain BLAKE3 of the file. Readers accept
 * these and {@linkcode KEYED_VERSION_FORMAT}, and refuse newer ones instead of guessing.
 */
export const VERSION_FORMAT = 2;

/**
 * Wire format written in a sealed namespace: format 2 with every chunk id (and so the digest
 * over them) BLAKE3 keyed with the fleet's id key (`chunk_id_key.ts`), so the store cannot
 * test for known content.
 */
export const KEYED_VERSION_FORMAT = 3;

/**
 * The most bytes a version object may hold. A chunk ref takes about 150 bytes of
 * JSON, so this fits a file of some 110 GiB at the average chunk size (28 GiB if
 * every chunk were the smallest), and inline content (at most 16 KiB) many times
 * over. Readers refuse a bigger object unread; writers refuse to write one.
 */
export const MAX_VERSION_BYTES = 64 * 1024 * 1024;

/** Raw bytes of one chunk: the chunker's maximum, which the chunk decoder also enforces. */
const MAX_CHUNK_BYTES = DEFAULT_CHUNK_SIZES.max;

/**
 * Stored bytes of one chunk: its format byte and its payload, which zstd may grow
 * past the raw size by less than 1/256 (only kept when it shrinks, since packs).
 */
export const MAX_STORED_CHUNK_BYTES = MAX_CHUNK_BYTES + 8 * 1024;

/** Where a chunk may start in its pack: far past the 4 MiB at which packs are sealed. */
const MAX_PACK_OFFSET = 64 * 1024 * 1024;

/** Formats this version of tcfs reads. */
export type VersionFormat = 1 | typeof VERSION_FORMAT | typeof KEYED_VERSION_FORMAT;

/**
 * One chunk of a file: its id (BLAKE3 of the raw bytes, keyed in format 3) and raw size, and where
 * its stored form lies: `length` bytes at `offset` in pack `pack`. A ref without
 * a pack names the object `chunks/<id>`, as pushes before packs wrote them.
 */
export interface ChunkRef {
  id: string;
  size: number;
  pack?: string;
  offset?: number;
  length?: number;
}

/** What a version records. */
export type VersionKind = "file" | "symlink" | "deleted";

/** The JSON stored at `ns/<namespace>/v/<digest>/<device>-<n>.json`. */
export interface FileVersion {
  format: VersionFormat;
  path: string;
  kind: VersionKind;
  /** Bytes of the file; 0 for links and deletions. */
  size: number;
  /** Permission bits (e.g. 0o644). */
  mode: number;
  mtime_ms: number;
  /** The file's digest ("" for links and deletions): see {@linkcode VERSION_FORMAT}. */
  blake3: string;
  chunks: ChunkRef[];
  /** Small files travel inside the version (base64) instead of as chunks. */
  inline?: string;
  /** Symlink target, for kind "symlink". */
  target?: string;
  vclock: VectorClock;
  /** Device id of the author. */
  author: string;
  author_name: string;
  written_at: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Pushes record `stat` mode bits 0o7777; pulls apply only 0o777 of them (`restored_mode.ts`). */
const MAX_MODE = 0o7777;

/**
 * Parses and validates untrusted version JSON. `origin` (usually the key)
 * goes into error messages.
 *
 * @example
 * ```ts
 * const version = parseFileVersion(bytes, "ns/default/v/…/…-1.json");
 * ```
 */
export function parseFileVersion(bytes: Uint8Array, origin: string): FileVersion {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw corrupt(origin, "it is not valid UTF-8 JSON (truncated or garbage)");
  }
  return checkFileVersion(value, origin);
}

/**
 * Validates an untrusted value as a version, as {@linkcode parseFileVersion} does with
 * bytes: for versions that arrive inside a larger object (a journal segment).
 *
 * @example
 * ```ts
 * const version = checkFileVersion(JSON.parse(text), "ns/default/j/…/0000000000000001.seg");
 * ```
 */
export function checkFileVersion(value: unknown, origin: string): FileVersion {
  if (typeof value !== "object" || value === null) throw corrupt(origin, "it is not an object");
  const v = value as Record<string, unknown>;
  if (v.format !== 1 && v.format !== VERSION_FORMAT && v.format !== KEYED_VERSION_FORMAT) {
    throw corrupt(
      origin,
      `format ${JSON.stringify(v.format)} is not 1, ${VERSION_FORMAT} or ${KEYED_VERSION_FORMAT}`,
    );
  }
  if (typeof v.path !== "string") throw corrupt(origin, "path is missing");
  assertSafeRelPath(v.path, origin);
  if (v.kind !== "file" && v.kind !== "symlink" && v.kind !== "deleted") {
    throw corrupt(origin, "kind is not file, symlink or deleted");
  }
  if (!isIntegerIn(v.size, 0, Number.MAX_SAFE_INTEGER)) {
    throw corrupt(origin, "size is not a non-negative whole number");
  }
  // Files dated before 1970 exist (old archives, cameras): earlier pushes wrote their mtimes
  // as they were, and refusing one made its whole journal object unreadable.
  if (!Number.isSafeInteger(v.mtime_ms)) throw corrupt(origin, "mtime_ms is not a whole number");
  if (!Number.isInteger(v.mode) || (v.mode as number) < 0 || (v.mode as number) > MAX_MODE) {
    throw corrupt(origin, `mode ${JSON.stringify(v.mode)} is not a permission mode (0 to 0o7777)`);
  }
  if (!isVectorClock(v.vclock)) throw corrupt(origin, "vclock is not a vector clock");
  if (typeof v.author !== "string" || typeof v.author_name !== "string") {
    throw corrupt(origin, "author is missing");
  }
  if (typeof v.written_at !== "string") throw corrupt(origin, "written_at is missing");
  if (!Array.isArray(v.chunks) || !v.chunks.every(isChunkRef)) {
    throw corrupt(
      origin,
      `chunks is not a list of {id, size ≤ ${MAX_CHUNK_BYTES}} with an optional {pack, offset ≤ ${MAX_PACK_OFFSET}, length ≤ ${MAX_STORED_CHUNK_BYTES}}`,
    );
  }
  if (v.kind === "file") {
    if (typeof v.blake3 !== "string" || !HEX64.test(v.blake3)) {
      throw corrupt(origin, "blake3 is not a hash");
    }
    const chunkBytes = (v.chunks as ChunkRef[]).reduce((sum, c) => sum + c.size, 0);
    if (v.inline !== undefined) {
      // Padded base64 of `size` bytes is exactly this long.
      const encodedLength = 4 * Math.ceil((v.size as number) / 3);
      if (
        typeof v.inline !== "string" || v.chunks.length > 0 || v.inline.length !== encodedLength
      ) {
        throw corrupt(origin, "inline content is malformed or does not match the size");
      }
    } else if (chunkBytes !== v.size) {
      throw corrupt(origin, `chunk sizes add up to ${chunkBytes}, not ${v.size}`);
    }
  }
  if (v.kind === "symlink" && !isLinkText(v.target)) {
    throw corrupt(
      origin,
      `symlink target is missing, empty, holds a NUL byte or is longer than ${MAX_LINK_TARGET} bytes`,
    );
  }
  return v as unknown as FileVersion;
}

/** The longest link text Linux and macOS accept (PATH_MAX less its NUL). */
const MAX_LINK_TARGET = 4095;

/** Text a symlink can hold: any bytes but NUL, at least one, at most PATH_MAX. */
function isLinkText(target: unknown): boolean {
  return typeof target === "string" && target !== "" && !target.includes("\0") &&
    new TextEncoder().encode(target).length <= MAX_LINK_TARGET;
}

/**
 * Serializes a version for the store.
 *
 * @example
 * ```ts
 * await store.put(key, encodeFileVersion(version));
 * ```
 */
export function encodeFileVersion(version: FileVersion): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(version));
}

/**
 * {@linkcode encodeFileVersion} for a version about to be written: refuses one
 * bigger than {@linkcode MAX_VERSION_BYTES}, which no reader would accept.
 *
 * @example
 * ```ts
 * await store.put(key, encodeStoredVersion(version));
 * ```
 */
export function encodeStoredVersion(version: FileVersion): Uint8Array {
  const body = encodeFileVersion(version);
  if (body.length > MAX_VERSION_BYTES) {
    throw new TcfsError(
      `${version.path}: its version would take ${body.length} bytes, more than the ${MAX_VERSION_BYTES} a version may hold`,
      {
        kind: "file_too_large",
        hint: "the file has too many chunks to sync; split it, or leave it out with an exclude",
      },
    );
  }
  return body;
}

const PACK_ID = /^[0-9a-f]{32}$/;

function isChunkRef(value: unknown): value is ChunkRef {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  const chunk = typeof c.id === "string" && HEX64.test(c.id) &&
    isIntegerIn(c.size, 1, MAX_CHUNK_BYTES);
  if (!chunk) return false;
  if (c.pack === undefined) return c.offset === undefined && c.length === undefined;
  return typeof c.pack === "string" && PACK_ID.test(c.pack) &&
    isIntegerIn(c.offset, 0, MAX_PACK_OFFSET) && isIntegerIn(c.length, 1, MAX_STORED_CHUNK_BYTES);
}

/**
 * The mtime a version records for a file modified at `mtimeMs`: one before 1970 is written as
 * 1970, which every tcfs reads (earlier ones refuse a negative one, and with it every
 * version written in the same journal object).
 *
 * @example
 * ```ts
 * versionMtime(Date.parse("1960-01-01")); // 0
 * ```
 */
export function versionMtime(mtimeMs: number): number {
  return Math.max(0, mtimeMs);
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

function corrupt(origin: string, why: string): TcfsError {
  return new TcfsError(`version ${origin} is unreadable: ${why}`, {
    kind: "corrupt_version",
    hint:
      "the object was damaged or written by an incompatible tool; other versions are unaffected",
  });
}
