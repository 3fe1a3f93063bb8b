/**
 * The bytes of journal objects: segments (the versions one device wrote in one go) and
 * checkpoints (every kept version of a namespace up to per-device cursors). Both are JSON in
 * a chunk's stored form (`chunk_codec.ts`: a format byte, then zstd or raw), so the one
 * codec that will seal chunks for end-to-end encryption seals these too.
 *
 * Everything decoded here came from the store and is checked: the envelope, the shape, every
 * version (`checkFileVersion`), and that the object belongs under its key.
 *
 * @module
 */

import { once } from "node:events";
import { createZstdCompress } from "node:zlib";
import {
  CHUNK_FORMAT_SEALED,
  CHUNK_FORMAT_ZSTD,
  decodeChunk,
  encodeChunk,
  zstdFrameOptions,
} from "../chunking/chunk_codec.ts";
import { checkFileVersion, type FileVersion, MAX_VERSION_BYTES } from "../remote/file_version.ts";
import {
  DEVICE_ID_PATTERN,
  MAX_SEGMENT_SEQ,
  parseCheckpointKey,
  parseSegmentKey,
} from "../remote/remote_keys.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";
import { isSealed, sealStored, unsealStored } from "../crypto/sealed_object.ts";
import { BUG_HINT, TcfsError } from "../errors.ts";
import { boxSealer } from "../crypto/sealed_box.ts";
import { concatBytes } from "../encoding/concat_bytes.ts";

/** The journal format this tcfs writes and reads; a marker or object with a higher one is refused. */
export const JOURNAL_FORMAT = 1;

/** The oldest tcfs release that reads {@linkcode JOURNAL_FORMAT}, named in messages to older ones. */
export const JOURNAL_MIN_TCFS = "0.8.0";

/** Versions a writer puts in one segment before starting the next. */
export const SEGMENT_MAX_VERSIONS = 1000;

/**
 * Bytes of versions a writer puts in one segment before starting the next: a version at the
 * version cap goes alone, and a segment never reaches {@linkcode MAX_SEGMENT_RAW_BYTES}.
 */
export const SEGMENT_MAX_BYTES = MAX_VERSION_BYTES;

/** What readers accept of a decoded segment: writers stay under {@linkcode SEGMENT_MAX_BYTES}, plus JSON's framing. */
export const MAX_SEGMENT_RAW_BYTES = 2 * MAX_VERSION_BYTES;

/** A checkpoint holds every kept version of a namespace: generous, but bounded. */
export const MAX_CHECKPOINT_RAW_BYTES = 1024 * 1024 * 1024;

/** One device's versions, written in one go. */
export interface Segment {
  journal: typeof JOURNAL_FORMAT;
  namespace: string;
  device: string;
  seq: number;
  written_at: string;
  versions: FileVersion[];
}

/** A namespace's versions as one device had folded them, up to `cursors`. */
export interface Checkpoint {
  journal: typeof JOURNAL_FORMAT;
  namespace: string;
  author: string;
  written_at: string;
  /** Per device, the last segment folded in. */
  cursors: Record<string, number>;
  /**
   * The revocations (device → revoked at) the fold was made under; absent in a namespace's base,
   * which holds every version unfolded.
   */
  revoked?: Record<string, string>;
  /**
   * The pruning checkpoint (gc's, `pruningCheckpointKey`) the writer's fold started from: a
   * checkpoint is a start only for readers whose floor it is too.
   */
  floor?: string;
  /** On a pruning checkpoint: the retention policy gc applied. */
  retention?: { keep_days: number; keep_last: number; staggered: boolean };
  /** Every head, the content each deletion keeps (`head_fold.ts`), and the history kept. */
  versions: FileVersion[];
}

/**
 * Encodes a segment or checkpoint for the store.
 *
 * @example
 * ```ts
 * await store.putConditional(key, await encodeJournalObject(segment, key, ctx.keys), { ifNoneMatch: "*" });
 * ```
 */
export function encodeJournalObject(
  value: Segment | Checkpoint,
  key: string,
  keys: FleetKeys | undefined,
): Promise<Uint8Array> {
  return encodeJournalText(new TextEncoder().encode(JSON.stringify(value)), key, keys);
}

/**
 * Encodes a journal object given as its JSON text, for `key`, as
 * {@linkcode encodeJournalObject} does: for a writer that puts the text together itself.
 *
 * @example
 * ```ts
 * await store.put(key, await encodeJournalText(new TextEncoder().encode(json), key, ctx.keys));
 * ```
 */
export function encodeJournalText(
  text: Uint8Array,
  key: string,
  keys: FleetKeys | undefined,
): Promise<Uint8Array> {
  // Always a zstd frame: its checksum is what tells a damaged object from a good one.
  const stored = encodeChunk(text, { always: true });
  // Sealed, the box is bound to the key, so a segment copied over another fails to open.
  return keys ? sealStored(keys, stored, key) : Promise.resolve(stored);
}

/**
 * Encodes a journal object whose JSON text comes in `pieces`, `size` bytes in all, into the
 * stored form {@linkcode encodeJournalText} makes of the whole text (one zstd frame recording
 * its size and checksum, sealed for `key` with `keys`), without the text ever held whole: the
 * frame is compressed and sealed as the pieces come. Only the stored form is held, and copied
 * once at the end. A piece may be read only once the one before it has been taken in.
 *
 * @throws {TcfsError} when the pieces add up to more or less than `size`.
 *
 * @example
 * ```ts
 * const body = await encodeJournalPieces([head, versions, tail], size, key, ctx.keys);
 * ```
 */
export async function encodeJournalPieces(
  pieces: Iterable<Uint8Array>,
  size: number,
  key: string,
  keys: FleetKeys | undefined,
): Promise<Uint8Array> {
  const sealer = keys && boxSealer(keys, key);
  const out: Uint8Array[] = sealer ? [Uint8Array.of(CHUNK_FORMAT_SEALED), sealer.head] : [];
  const add = (stored: Uint8Array) => out.push(sealer ? sealer.update(stored) : stored);
  add(Uint8Array.of(CHUNK_FORMAT_ZSTD));
  const zstd = createZstdCompress(zstdFrameOptions(size));
  zstd.on("data", add);
  const ended = new Promise((resolve, reject) => {
    zstd.on("end", resolve);
    zstd.on("error", reject);
  });
  ended.catch(() => {}); // awaited below, unless a miscount throws first
  let fed = 0;
  try {
    for (const piece of pieces) {
      fed += piece.length;
      if (fed > size) break;
      // Waiting for the stream to take what it has keeps the text out of its buffer.
      if (!zstd.write(piece)) await Promise.race([once(zstd, "drain"), ended]);
    }
    if (fed !== size) {
      throw new TcfsError(`the pieces of ${key} do not add up to the ${size} bytes counted`, {
        hint: BUG_HINT,
      });
    }
    zstd.end();
    await ended;
  } finally {
    zstd.destroy();
  }
  if (sealer) out.push(sealer.final());
  return concatBytes(out);
}

/**
 * Decodes and checks a segment read from `key`.
 *
 * @throws {TcfsError} kind `corrupt_journal` when it is damaged or misplaced,
 *   `journal_too_new` when a newer tcfs wrote it.
 *
 * @example
 * ```ts
 * const segment = await decodeSegment(await store.get(key), key, ctx.keys);
 * ```
 */
export async function decodeSegment(
  stored: Uint8Array,
  key: string,
  keys: FleetKeys | undefined,
): Promise<Segment> {
  const where = parseSegmentKey(key);
  const value = await decodeEnvelope(stored, key, MAX_SEGMENT_RAW_BYTES, keys);
  if (typeof value.device !== "string" || typeof value.seq !== "number") {
    throw corrupt(key, "device or seq is missing");
  }
  if (
    !where || value.namespace !== where.namespace || value.device !== where.device ||
    value.seq !== where.seq
  ) {
    throw corrupt(key, "its namespace, device or number does not match its key");
  }
  const versions = checkVersions(value.versions, key);
  if (versions.some((v) => v.author !== where.device)) {
    throw corrupt(key, "it holds a version another device wrote");
  }
  return { ...(value as unknown as Segment), versions };
}

/**
 * Decodes and checks a checkpoint read from `key`.
 *
 * @throws {TcfsError} as {@linkcode decodeSegment}.
 *
 * @example
 * ```ts
 * const checkpoint = await decodeCheckpoint(await store.get(key), key, ctx.keys);
 * ```
 */
export async function decodeCheckpoint(
  stored: Uint8Array,
  key: string,
  keys: FleetKeys | undefined,
): Promise<Checkpoint> {
  const value = await decodeEnvelope(stored, key, MAX_CHECKPOINT_RAW_BYTES, keys);
  checkCheckpointFields(value, key);
  return { ...(value as unknown as Checkpoint), versions: checkVersions(value.versions, key) };
}

/**
 * Checks every field of a checkpoint read from `key` but its versions, and that it belongs
 * under its key: what a reader that parses the versions as it goes checks first.
 *
 * @throws {TcfsError} as {@linkcode decodeSegment}.
 *
 * @example
 * ```ts
 * checkCheckpointFields(checkJournalObject(fields, key), key);
 * ```
 */
export function checkCheckpointFields(value: Record<string, unknown>, key: string): void {
  const where = parseCheckpointKey(key);
  if (!where || value.namespace !== where.namespace || value.author !== where.device) {
    throw corrupt(key, "its namespace or author does not match its key");
  }
  const cursors = value.cursors;
  const validCursors = isMapOf(
    cursors,
    (seq) =>
      Number.isSafeInteger(seq) && (seq as number) >= 0 && (seq as number) <= MAX_SEGMENT_SEQ,
  );
  if (!validCursors) throw corrupt(key, "cursors is not a map of device ids to segment numbers");
  const covered = Object.values(cursors as Record<string, number>).reduce((a, b) => a + b, 0);
  if (covered !== where.covered) {
    throw corrupt(
      key,
      `its cursors cover ${covered} segments, not the ${where.covered} its key says`,
    );
  }
  if (value.revoked !== undefined && !isMapOf(value.revoked, (at) => typeof at === "string")) {
    throw corrupt(key, "revoked is not a map of device ids to times");
  }
  if (
    value.floor !== undefined &&
    (typeof value.floor !== "string" ||
      parseCheckpointKey(value.floor)?.generation === undefined ||
      parseCheckpointKey(value.floor)?.namespace !== where.namespace)
  ) {
    throw corrupt(key, "floor is not a pruning checkpoint of its namespace");
  }
}

async function decodeEnvelope(
  sealed: Uint8Array,
  key: string,
  maxRawSize: number,
  keys: FleetKeys | undefined,
): Promise<Record<string, unknown>> {
  const raw = await openJournalText(sealed, key, maxRawSize, keys);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch (err) {
    throw corrupt(key, `it is not a journal object (${(err as Error).message})`);
  }
  if (typeof value !== "object" || value === null) throw corrupt(key, "it is not an object");
  return checkJournalObject(value as Record<string, unknown>, key);
}

/**
 * The JSON text (UTF-8) of the journal object `stored` read from `key`, authenticated first
 * when it is sealed and checked against its zstd frame, unparsed: nothing of it is used
 * before the whole object is known to be what its writer stored.
 *
 * @throws {TcfsError} kind `corrupt_journal` when it is damaged, fails authentication or
 *   inflates past `maxRawSize`.
 *
 * @example
 * ```ts
 * const text = await openJournalText(stored, key, MAX_CHECKPOINT_RAW_BYTES, ctx.keys);
 * ```
 */
export async function openJournalText(
  stored: Uint8Array,
  key: string,
  maxRawSize: number,
  keys: FleetKeys | undefined,
): Promise<Uint8Array> {
  if (keys && !keys.readsPlaintext && !isSealed(stored)) {
    // Unauthenticated: whoever can write to the bucket could have put it there.
    throw corrupt(key, "it is not sealed, in a namespace that is (tcfs store encrypt)");
  }
  const plain = await unsealStored(keys, stored, key).catch((err) => {
    throw err instanceof TcfsError && err.kind === "sealed_damaged"
      ? corrupt(key, err.message)
      : err;
  });
  if (plain[0] !== CHUNK_FORMAT_ZSTD) {
    throw corrupt(key, "it is not a zstd frame (its first byte is not 0x01)");
  }
  try {
    return await decodeChunk(plain, { maxRawSize });
  } catch (err) {
    throw corrupt(key, `it is not a journal object (${(err as Error).message})`);
  }
}

/**
 * Checks what every journal object from `key` holds (its format and time) and returns it.
 *
 * @throws {TcfsError} kind `corrupt_journal`, or `journal_too_new` when a newer tcfs wrote it.
 *
 * @example
 * ```ts
 * const object = checkJournalObject(JSON.parse(text), key);
 * ```
 */
export function checkJournalObject(
  object: Record<string, unknown>,
  key: string,
): Record<string, unknown> {
  if (typeof object.journal === "number" && object.journal > JOURNAL_FORMAT) {
    throw journalTooNew(key, object.journal);
  }
  if (object.journal !== JOURNAL_FORMAT) throw corrupt(key, "journal format is missing");
  if (typeof object.written_at !== "string") throw corrupt(key, "written_at is missing");
  return object;
}

/** A JSON object whose keys are device ids and whose values pass `valid`. */
function isMapOf(value: unknown, valid: (v: unknown) => boolean): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.entries(value).every(([device, v]) => DEVICE_ID_PATTERN.test(device) && valid(v));
}

/**
 * Checks the versions of a journal object read from `key`, as its decoder does: for a reader
 * that parses them a slice at a time.
 *
 * @throws {TcfsError} kind `corrupt_journal` on the first that is not a good version.
 *
 * @example
 * ```ts
 * const versions = checkVersions(JSON.parse(slice), key);
 * ```
 */
export function checkVersions(value: unknown, key: string, first = 0): FileVersion[] {
  if (!Array.isArray(value)) throw corrupt(key, "versions is not a list");
  return value.map((v, i) => {
    const origin = `${key} (version ${first + i + 1})`;
    let version: FileVersion;
    try {
      version = checkFileVersion(v, origin);
    } catch (err) {
      if (!(err instanceof TcfsError)) throw err;
      // An unsafe path or a malformed version makes the whole object unreadable, as its
      // readers expect (`corrupt_journal`): they skip it and report it, never half-fold it.
      throw new TcfsError(err.message, { kind: "corrupt_journal", hint: CORRUPT_HINT, cause: err });
    }
    // A version is named by its author's counter (`storedVersion`): without one, two versions
    // would share a name.
    const counter = version.vclock[version.author];
    if (!Number.isSafeInteger(counter) || counter < 1) {
      throw corrupt(origin, "its clock holds no counter of its author");
    }
    return version;
  });
}

/**
 * The error for a journal object or marker a newer tcfs wrote.
 *
 * @example
 * ```ts
 * throw journalTooNew("ns/default/journal.json", 2, "0.9.0");
 * ```
 */
export function journalTooNew(key: string, format: unknown, requires?: unknown): TcfsError {
  const release = typeof requires === "string" && /^[0-9][0-9A-Za-z.+-]{0,31}$/.test(requires)
    ? `tcfs ${requires} or later`
    : "a newer tcfs";
  return new TcfsError(
    `${key} uses journal format ${JSON.stringify(format)}, which needs ${release}`,
    {
      kind: "journal_too_new",
      hint: `install ${release} on this device, then run the command again`,
    },
  );
}

const CORRUPT_HINT =
  "the object was damaged or written by an incompatible tool; `tcfs check` lists what it affects";

/**
 * The error for a journal object from `key` that is damaged, for the reason `why`.
 *
 * @example
 * ```ts
 * throw corruptJournal(key, "versions is not a list");
 * ```
 */
export function corruptJournal(key: string, why: string): TcfsError {
  return corrupt(key, why);
}

function corrupt(key: string, why: string): TcfsError {
  return new TcfsError(`journal object ${key} is unreadable: ${why}`, {
    kind: "corrupt_journal",
    hint: CORRUPT_HINT,
  });
}
