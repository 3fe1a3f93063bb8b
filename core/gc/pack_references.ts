/**
 * gc's reference scan: which stored objects (packs, stand-alone chunks) something in the store
 * still names, and which byte ranges of each. Every namespace counts (packs are shared): what a
 * reader could start from (the floor and the checkpoints made on it, or before any gc every
 * checkpoint), every segment the floor does not cover, and versions in the old layout.
 *
 * The namespace being pruned is scanned the same way except for its floor-to-be: the versions
 * gc keeps are added by the caller, unpinned, so the stage that repacks may move them. What the
 * scan finds is pinned: it lies in objects gc does not rewrite.
 *
 * @module
 */

import type { FleetKeys } from "../crypto/fleet_keys.ts";
import { isSealed } from "../crypto/sealed_object.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { FileVersion } from "../remote/file_version.ts";
import { contentObjectKey } from "../remote/content_objects.ts";
import {
  KEYED_VERSION_FORMAT,
  MAX_VERSION_BYTES,
  parseFileVersion,
} from "../remote/file_version.ts";
import {
  checkpointPrefix,
  deviceJournalPrefix,
  NAMESPACES_PREFIX,
  namespaceVersionsPrefix,
  parseCheckpointKey,
  parseSegmentKey,
  parseVersionKey,
} from "../remote/remote_keys.ts";
import {
  decodeSegment,
  MAX_CHECKPOINT_RAW_BYTES,
  MAX_SEGMENT_RAW_BYTES,
} from "../journal/journal_codec.ts";
import { coveredBy, newestFloor } from "../journal/journal_checkpoint.ts";
import { openCheckpoint } from "../journal/checkpoint_reader.ts";
import { journalDevices } from "../journal/journal_catch_up.ts";
import { FENCE_DIGEST } from "../journal/legacy_versions.ts";

/** One chunk's place in an object, as versions name it. */
export interface ReferencedRange {
  id: string;
  length: number;
  /** The id is keyed BLAKE3 (a format 3 version names it: `chunk_id_key.ts`). */
  keyed: boolean;
}

/** Per object key, the ranges named in it (by offset; a stand-alone chunk has one at 0). */
export interface PackReferences {
  ranges: Map<string, Map<number, ReferencedRange>>;
  /** Objects named by something gc does not rewrite. */
  pinned: Set<string>;
}

/**
 * An empty set of references.
 *
 * @example
 * ```ts
 * const refs = emptyReferences();
 * ```
 */
export function emptyReferences(): PackReferences {
  return { ranges: new Map(), pinned: new Set() };
}

/**
 * Adds what `version` names.
 *
 * @example
 * ```ts
 * for (const v of pruned.kept) addReferences(refs, v, false);
 * ```
 */
export function addReferences(refs: PackReferences, version: FileVersion, pinned: boolean): void {
  const keyed = version.format === KEYED_VERSION_FORMAT;
  for (const ref of version.chunks) {
    const key = contentObjectKey(ref);
    let ranges = refs.ranges.get(key);
    if (!ranges) refs.ranges.set(key, ranges = new Map());
    ranges.set(ref.offset ?? 0, { id: ref.id, length: ref.length ?? 0, keyed });
    if (pinned) refs.pinned.add(key);
  }
}

/** What the scan could not read: gc deletes nothing while any of it stands. */
export interface ScanProblem {
  key: string;
  why: string;
}

/**
 * Scans every namespace in `store` into `refs`; for `pruning` (the namespace gc prunes, with
 * the floor about to be written over `cursors`), leaves out what the new floor replaces: the
 * old floor and checkpoints, and the segments `cursors` cover. Returns what could not be read.
 *
 * @example
 * ```ts
 * const problems = await scanReferences(store, ctx.keys, refs, { namespace: "default", cursors });
 * ```
 *
 * Sealed journal objects of any namespace open with `fleetKeys`; without them they are problems.
 */
export async function scanReferences(
  store: ObjectStore,
  fleetKeys: FleetKeys | undefined,
  refs: PackReferences,
  pruning: { namespace: string; cursors: ReadonlyMap<string, number> },
): Promise<ScanProblem[]> {
  const problems: ScanProblem[] = [];
  for await (const folder of store.list(NAMESPACES_PREFIX, { delimiter: "/" })) {
    if (!folder.key.endsWith("/")) continue;
    const namespace = folder.key.slice(NAMESPACES_PREFIX.length, -1);
    try {
      checkpointPrefix(namespace);
    } catch {
      continue; // not a namespace tcfs writes
    }
    const own = namespace === pruning.namespace ? pruning.cursors : undefined;
    await scanNamespace(store, fleetKeys, namespace, refs, own, problems);
  }
  return problems;
}

async function scanNamespace(
  store: ObjectStore,
  fleetKeys: FleetKeys | undefined,
  namespace: string,
  refs: PackReferences,
  prunedUpTo: ReadonlyMap<string, number> | undefined,
  problems: ScanProblem[],
): Promise<void> {
  // Plaintext objects are read as they are: a reference too many only keeps a pack longer.
  const keysFor = (body: Uint8Array) => isSealed(body) ? fleetKeys : undefined;
  const add = (versions: FileVersion[]) => {
    for (const v of versions) addReferences(refs, v, true);
  };
  const attempt = async (key: string, read: () => Promise<void>) => {
    try {
      await read();
    } catch (err) {
      problems.push({ key, why: err instanceof Error ? err.message : String(err) });
    }
  };
  const keys: string[] = [];
  for await (const info of store.list(checkpointPrefix(namespace))) {
    if (parseCheckpointKey(info.key)?.namespace === namespace) keys.push(info.key);
  }
  const floor = newestFloor(keys);
  const floorCovered = floor ? parseCheckpointKey(floor)!.covered : 0;
  let covers: ReadonlyMap<string, number> = prunedUpTo ?? new Map();
  for (const key of keys) {
    const parsed = parseCheckpointKey(key)!;
    // Older checkpoints are no reader's start once there is a floor (gc deletes them).
    if (
      floor && key !== floor && (parsed.generation !== undefined || parsed.covered < floorCovered)
    ) continue;
    if (prunedUpTo && parsed.covered <= coveredBy(prunedUpTo)) continue;
    await attempt(key, async () => {
      const body = await store.get(key, { maxBytes: MAX_CHECKPOINT_RAW_BYTES });
      if (!body) return; // deleted meanwhile: what it named is in the floor that replaced it
      // A slice at a time: a checkpoint's versions parsed whole weigh hundreds of MB at 100,000.
      const checkpoint = await openCheckpoint(body, key, keysFor(body));
      for (const versions of checkpoint.slices()) add(versions);
      if (key === floor && !prunedUpTo) {
        covers = new Map(Object.entries(checkpoint.fields.cursors));
      }
    });
  }
  for (const id of await journalDevices(store, namespace)) {
    for await (const info of store.list(deviceJournalPrefix(namespace, id))) {
      const parsed = parseSegmentKey(info.key);
      if (!parsed || parsed.seq <= (covers.get(id) ?? 0)) continue;
      await attempt(info.key, async () => {
        const body = await store.get(info.key, { maxBytes: MAX_SEGMENT_RAW_BYTES + 1024 });
        if (body) add((await decodeSegment(body, info.key, keysFor(body))).versions);
      });
    }
  }
  for await (const info of store.list(namespaceVersionsPrefix(namespace))) {
    const parts = parseVersionKey(info.key);
    if (!parts || parts.digest === FENCE_DIGEST) continue;
    await attempt(info.key, async () => {
      const body = await store.get(info.key, { maxBytes: MAX_VERSION_BYTES });
      if (body) add([parseFileVersion(body, info.key)]);
    });
  }
}
