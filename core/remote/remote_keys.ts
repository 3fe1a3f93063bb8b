/**
 * The key layout inside the bucket, in one place. docs/PROTOCOL.md describes
 * the same layout for other implementations.
 *
 * ```
 * packs/<pack id>                                  chunks, stored back to back
 * chunks/<blake3>                                  one chunk (read-only: older pushes wrote these)
 * ns/<namespace>/journal.json                      the namespace's journal marker, written once
 * ns/<namespace>/j/<device>/<seq>.seg              one device's journal segment (versions it wrote)
 * ns/<namespace>/cp/<covered>-<device>.ckpt        a checkpoint: every head, up to per-device cursors
 * ns/<namespace>/v/<path-digest>/<device>-<n>.json one version of one path (before the journal)
 * tcfs-meta/devices/<device>.json                  a device's registration
 * tcfs-meta/devices.json                           fleet index, rebuilt from the above
 * tcfs-meta/revoked/<device>.json                  revocation marker, written by the revoker
 * tcfs-meta/store-id                               this store's random id, written once
 * tcfs-meta/gc/lease-<n>.json                      the gc lease: the highest n holds it
 * tcfs-meta/keys/<epoch>                           the fleet keychain of one key epoch (age-encrypted)
 * tcfs-meta/keys/recovery                          the recovery identity, sealed by passphrase (age scrypt)
 * ns/<namespace>/encryption.json                   says the namespace is sealed, and since when
 * ```
 *
 * @module
 */

import { blake3HexFunction } from "../hashing/blake3.ts";
import { TcfsError } from "../errors.ts";

const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A device id as keys hold it (a lowercase UUID). */
export const DEVICE_ID_PATTERN = /^[0-9a-f-]{36}$/;
const VERSION_NAME_PATTERN = /^([0-9a-f-]{36})-([1-9][0-9]{0,15})\.json$/;

/** The prefix under which packs live. */
export const PACKS_PREFIX = "packs/";

/** The prefix under which stand-alone chunks (from before packs) live. */
export const CHUNKS_PREFIX = "chunks/";

/** The store key of a chunk stored on its own (older pushes; never written now). */
export function chunkKey(chunkId: string): string {
  return `${CHUNKS_PREFIX}${chunkId}`;
}

/** The store key of a pack of chunks. */
export function packKey(packId: string): string {
  return `${PACKS_PREFIX}${packId}`;
}

/**
 * Throws unless `namespace` is a valid namespace name.
 *
 * @example
 * ```ts
 * assertNamespace("default");
 * ```
 */
export function assertNamespace(namespace: string): string {
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new TcfsError(`invalid namespace ${JSON.stringify(namespace)}`, {
      kind: "invalid_namespace",
      exitCode: 2,
      hint: "use letters, digits, '.', '_' or '-' (up to 63 characters), e.g. 'default'",
    });
  }
  return namespace;
}

/**
 * The digest that stands for a path in keys: short, fixed-depth, and never a
 * prefix of another path's key.
 *
 * @example
 * ```ts
 * await pathDigest("docs/a.txt"); // 32 hex characters
 * ```
 */
export async function pathDigest(rel: string): Promise<string> {
  return digestOfPath(await blake3HexFunction(), rel);
}

function digestOfPath(hex: (bytes: Uint8Array) => string, rel: string): string {
  return hex(new TextEncoder().encode(rel)).slice(0, 32);
}

/** The object that says a namespace keeps its versions in journals (`journal_marker.ts`). */
export function journalMarkerKey(namespace: string): string {
  return `ns/${assertNamespace(namespace)}/journal.json`;
}

/** Prefix of every device's journal in `namespace`; one folder per device below it. */
export function journalPrefix(namespace: string): string {
  return `ns/${assertNamespace(namespace)}/j/`;
}

/** Prefix of one device's journal segments. */
export function deviceJournalPrefix(namespace: string, device: string): string {
  return `${journalPrefix(namespace)}${device}/`;
}

/** Digits of a segment number in its key: keys then list in number order. */
const SEQ_DIGITS = 16;

/** The largest segment number: exact in a JSON number, and 16 digits. */
export const MAX_SEGMENT_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * The key of segment `seq` of `device`'s journal; `seq` 0 names the place before the
 * first segment (where a reader that has read none resumes).
 *
 * @example
 * ```ts
 * segmentKey("default", id, 3); // "ns/default/j/<id>/0000000000000003.seg"
 * ```
 */
export function segmentKey(namespace: string, device: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEGMENT_SEQ) {
    throw new TcfsError(`segment number ${seq} is out of range`, {
      kind: "corrupt_journal",
      hint: "a journal's cursor came from a damaged checkpoint; run tcfs check",
    });
  }
  return `${deviceJournalPrefix(namespace, device)}${String(seq).padStart(SEQ_DIGITS, "0")}.seg`;
}

/** What a segment key says; undefined for anything else. */
export function parseSegmentKey(
  key: string,
): { namespace: string; device: string; seq: number } | undefined {
  const match = /^ns\/([^/]+)\/j\/([0-9a-f-]{36})\/([0-9]{16})\.seg$/.exec(key);
  if (!match || !NAMESPACE_PATTERN.test(match[1]) || Number(match[3]) < 1) return undefined;
  return { namespace: match[1], device: match[2], seq: Number(match[3]) };
}

/** Prefix of a namespace's checkpoints. */
export function checkpointPrefix(namespace: string): string {
  return `ns/${assertNamespace(namespace)}/cp/`;
}

/**
 * A new key for a checkpoint covering `covered` segments in all (the sum of its cursors), so
 * the last one listed covers the most. A random suffix keeps two writers with one device id
 * from ever writing the same key.
 *
 * @example
 * ```ts
 * checkpointKey("default", 64, id); // "ns/default/cp/0000000000000064-<id>-<8 hex>.ckpt"
 * ```
 */
export function checkpointKey(namespace: string, covered: number, device: string): string {
  const nonce = [...crypto.getRandomValues(new Uint8Array(4))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${checkpointPrefix(namespace)}${
    String(covered).padStart(SEQ_DIGITS, "0")
  }-${device}-${nonce}.ckpt`;
}

/**
 * The key of the pruning checkpoint that gc writes in its `generation`-th run over the
 * namespace (`core/gc/`): it holds only what the retention policy keeps, and the segments it
 * covers may be gone. The newest generation is the namespace's floor.
 *
 * @example
 * ```ts
 * pruningCheckpointKey("default", 640, id, 3); // "ns/default/cp/0000000000000640-<id>-g00000003.ckpt"
 * ```
 */
export function pruningCheckpointKey(
  namespace: string,
  covered: number,
  device: string,
  generation: number,
): string {
  return `${checkpointPrefix(namespace)}${String(covered).padStart(SEQ_DIGITS, "0")}-${device}-g${
    String(generation).padStart(8, "0")
  }.ckpt`;
}

/** What a checkpoint key says: `generation` only for a pruning checkpoint; undefined for anything else. */
export function parseCheckpointKey(
  key: string,
): { namespace: string; covered: number; device: string; generation?: number } | undefined {
  const match = /^ns\/([^/]+)\/cp\/([0-9]{16})-([0-9a-f-]{36})-(?:[0-9a-f]{8}|g([0-9]{8}))\.ckpt$/
    .exec(key);
  if (!match || !NAMESPACE_PATTERN.test(match[1])) return undefined;
  const found = { namespace: match[1], covered: Number(match[2]), device: match[3] };
  return match[4] === undefined ? found : { ...found, generation: Number(match[4]) };
}

/** Prefix of gc's records of condemned packs (`core/gc/condemned_packs.ts`). */
export const CONDEMNED_PREFIX = "tcfs-meta/gc/condemned/";

/**
 * The key of a record of packs gc condemned at `at`.
 *
 * @example
 * ```ts
 * condemnedRecordKey(new Date(), id); // "tcfs-meta/gc/condemned/20261203T221500123Z-<id>.json"
 * ```
 */
export function condemnedRecordKey(at: Date, device: string): string {
  return `${CONDEMNED_PREFIX}${at.toISOString().replace(/[-:.]/g, "")}-${device}.json`;
}

/** Prefix of the fleet keychains, one per key epoch (`core/crypto/keychain_store.ts`). */
export const KEYCHAIN_PREFIX = "tcfs-meta/keys/";

/** Digits of an epoch in its keychain's key: keys then list in epoch order. */
const EPOCH_DIGITS = 10;

/** The largest key epoch: what fits in a sealed box's four epoch bytes. */
export const MAX_KEY_EPOCH = 0xffffffff;

/**
 * The key of epoch `epoch`'s keychain.
 *
 * @example
 * ```ts
 * keychainKey(2); // "tcfs-meta/keys/0000000002"
 * ```
 */
export function keychainKey(epoch: number): string {
  return `${KEYCHAIN_PREFIX}${String(epoch).padStart(EPOCH_DIGITS, "0")}`;
}

/** The epoch a keychain key names; undefined for anything else under the prefix. */
export function parseKeychainKey(key: string): number | undefined {
  const match = /^tcfs-meta\/keys\/([0-9]{10})$/.exec(key);
  const epoch = match ? Number(match[1]) : 0;
  return epoch >= 1 && epoch <= MAX_KEY_EPOCH ? epoch : undefined;
}

/** The recovery identity, age-encrypted to the fleet's recovery passphrase. */
export const RECOVERY_IDENTITY_KEY = `${KEYCHAIN_PREFIX}recovery`;

/** The object that says `namespace` is sealed (`core/crypto/namespace_sealing.ts`). */
export function namespaceSealingKey(namespace: string): string {
  return `ns/${assertNamespace(namespace)}/encryption.json`;
}

/** The prefix under which every namespace lives. */
export const NAMESPACES_PREFIX = "ns/";

/** The prefix of everything stored for `namespace`: empty until its first write. */
export function namespacePrefix(namespace: string): string {
  return `${NAMESPACES_PREFIX}${assertNamespace(namespace)}/`;
}

/** Prefix under which every version of every path in `namespace` lives. */
export function namespaceVersionsPrefix(namespace: string): string {
  return `ns/${assertNamespace(namespace)}/v/`;
}

/** Prefix under which every version of one path lives. */
export async function pathVersionsPrefix(namespace: string, rel: string): Promise<string> {
  return `${namespaceVersionsPrefix(namespace)}${await pathDigest(rel)}/`;
}

/** The key of the version `device` wrote when its counter for `rel` reached `counter`. */
export async function versionKey(
  namespace: string,
  rel: string,
  device: string,
  counter: number,
): Promise<string> {
  return `${await pathVersionsPrefix(namespace, rel)}${device}-${counter}.json`;
}

/**
 * {@linkcode versionKey} for `namespace` as a function that does not await: for naming many
 * versions inside one transaction.
 *
 * @example
 * ```ts
 * const keyOf = await versionKeyFunction("default");
 * keyOf("docs/a.txt", device, 3); // "ns/default/v/<digest>/<device>-3.json"
 * ```
 */
export async function versionKeyFunction(
  namespace: string,
): Promise<(rel: string, device: string, counter: number) => string> {
  const hex = await blake3HexFunction();
  const prefix = namespaceVersionsPrefix(namespace);
  return (rel, device, counter) => `${prefix}${digestOfPath(hex, rel)}/${device}-${counter}.json`;
}

/** What a version key says about its version, before reading it. */
export interface VersionKeyParts {
  namespace: string;
  digest: string;
  device: string;
  counter: number;
}

/**
 * Parses a version key; returns undefined for keys that aren't versions
 * (stray objects are ignored, not fatal).
 *
 * @example
 * ```ts
 * parseVersionKey("ns/default/v/0123…/6f1e…-3.json")?.counter; // 3
 * ```
 */
export function parseVersionKey(key: string): VersionKeyParts | undefined {
  const parts = key.split("/");
  if (parts.length !== 5 || parts[0] !== "ns" || parts[2] !== "v") return undefined;
  const match = VERSION_NAME_PATTERN.exec(parts[4]);
  if (!match || !/^[0-9a-f]{32}$/.test(parts[3]) || !NAMESPACE_PATTERN.test(parts[1])) {
    return undefined;
  }
  return { namespace: parts[1], digest: parts[3], device: match[1], counter: Number(match[2]) };
}

/**
 * A random id that tells this store from an emptied or replaced one at the same
 * address (`core/state/store_identity.ts`).
 */
export const STORE_ID_KEY = "tcfs-meta/store-id";

/** Prefix of the per-device registration objects. */
export const DEVICES_PREFIX = "tcfs-meta/devices/";

/** The fleet index the seed guide names. */
export const DEVICES_INDEX_KEY = "tcfs-meta/devices.json";

/** The key of one device's registration. */
export function deviceKey(deviceId: string): string {
  return `${DEVICES_PREFIX}${deviceId}.json`;
}

/** Prefix of the revocation markers: one object per revoked device. */
export const REVOKED_PREFIX = "tcfs-meta/revoked/";

/** The key of the marker that says `deviceId` is revoked. */
export function revokedKey(deviceId: string): string {
  return `${REVOKED_PREFIX}${deviceId}.json`;
}

/** Prefix of the gc lease objects (`core/gc/gc_lease.ts`); the highest number is the lease. */
export const GC_LEASE_PREFIX = "tcfs-meta/gc/lease-";

/**
 * The key of gc lease number `n` (from 1), zero-padded so that keys list in number order.
 *
 * @example
 * ```ts
 * gcLeaseKey(7); // "tcfs-meta/gc/lease-0000000000000007.json"
 * ```
 */
export function gcLeaseKey(n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new TcfsError(`gc lease number ${n} is out of range`, {
      kind: "gc_lease_invalid",
      hint: `delete the objects under ${GC_LEASE_PREFIX} once no gc runs, then retry`,
    });
  }
  return `${GC_LEASE_PREFIX}${String(n).padStart(SEQ_DIGITS, "0")}.json`;
}

/**
 * The number in a gc lease key; undefined for anything else.
 *
 * @example
 * ```ts
 * parseGcLeaseKey("tcfs-meta/gc/lease-0000000000000007.json"); // 7
 * ```
 */
export function parseGcLeaseKey(key: string): number | undefined {
  const match = /^tcfs-meta\/gc\/lease-([0-9]{16})\.json$/.exec(key);
  const n = match ? Number(match[1]) : 0;
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}
