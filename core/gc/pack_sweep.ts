/**
 * gc's last stage: condemns the stored objects (packs, stand-alone chunks) that nothing names,
 * and deletes those condemned long enough ago that every writer has seen it
 * (`condemned_packs.ts` tells why that is safe). An object named again since its condemnation
 * is rescued.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import { condemnedRecordKey } from "../remote/remote_keys.ts";
import { encodeCondemnedRecord, readCondemnedRecords } from "./condemned_packs.ts";
import type { PackReferences } from "./pack_references.ts";

/** How a sweep runs. */
export interface SweepOptions {
  /** When the reference scan began. */
  scanStart: Date;
  /** How long an object stays condemned before it may go; 0 deletes at once. */
  minAgeMs: number;
  /** The device running gc, named in its records. */
  device: string;
  dryRun: boolean;
  /** Told about condemned records that cannot be read (they are skipped). */
  log?: (key: string, why: string) => void;
}

/** What a sweep found and did, in objects and bytes. */
export interface SweepResult {
  /** Objects in the store, and their bytes. */
  objects: number;
  bytes: number;
  /** Objects something names. */
  referenced: number;
  referencedBytes: number;
  /** Deleted now (or, in a dry run, that would be). */
  deleted: number;
  deletedBytes: number;
  /** Condemned and waiting for their minimum age. */
  condemned: number;
  condemnedBytes: number;
  /** Condemned before, but named again. */
  rescued: number;
}

/**
 * Sweeps the objects `sizes` lists (listed before the reference scan began, so an object
 * uploaded since is not among them) with the references `refs` found.
 *
 * @example
 * ```ts
 * const sizes = await contentObjectSizes(store);
 * // … the reference scan …
 * const swept = await sweepObjects(store, refs, sizes, { scanStart, minAgeMs: 3600_000, device, dryRun: false });
 * ```
 */
export async function sweepObjects(
  store: ObjectStore,
  refs: PackReferences,
  sizes: ReadonlyMap<string, number>,
  options: SweepOptions,
): Promise<SweepResult> {
  const result: SweepResult = {
    objects: sizes.size,
    bytes: sum(sizes.values()),
    referenced: 0,
    referencedBytes: 0,
    deleted: 0,
    deletedBytes: 0,
    condemned: 0,
    condemnedBytes: 0,
    rescued: 0,
  };
  const unreferenced = new Set<string>();
  for (const [key, size] of sizes) {
    if (refs.ranges.has(key)) {
      result.referenced++;
      result.referencedBytes += size;
    } else unreferenced.add(key);
  }
  const gone = async (key: string) => {
    result.deleted++;
    result.deletedBytes += sizes.get(key) ?? 0;
    if (!options.dryRun) await store.delete(key);
  };
  const ripeBy = options.scanStart.getTime() - options.minAgeMs;
  const onRecord = new Set<string>();
  for (const { key, record } of await readCondemnedRecords(store, options.log)) {
    const waiting: string[] = [];
    for (const object of record.objects) {
      if (!unreferenced.has(object)) {
        // Named again (a rescue), or gone already (another run deleted it).
        if (sizes.has(object)) result.rescued++;
        continue;
      }
      onRecord.add(object);
      if (Date.parse(record.condemned_at) <= ripeBy) await gone(object);
      else waiting.push(object);
    }
    result.condemned += waiting.length;
    result.condemnedBytes += sum(waiting.map((k) => sizes.get(k) ?? 0));
    if (options.dryRun || waiting.length === record.objects.length) continue;
    if (waiting.length === 0) await store.delete(key);
    else await store.put(key, encodeCondemnedRecord({ ...record, objects: waiting }));
  }
  const fresh = [...unreferenced].filter((key) => !onRecord.has(key));
  if (options.minAgeMs === 0) {
    for (const key of fresh) await gone(key);
  } else if (fresh.length > 0) {
    result.condemned += fresh.length;
    result.condemnedBytes += sum(fresh.map((k) => sizes.get(k) ?? 0));
    if (!options.dryRun) {
      const at = new Date();
      await store.put(
        condemnedRecordKey(at, options.device),
        encodeCondemnedRecord({
          condemned_at: at.toISOString(),
          by: options.device,
          objects: fresh,
        }),
      );
    }
  }
  return result;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
