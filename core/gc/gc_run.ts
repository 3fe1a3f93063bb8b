/**
 * `tcfs gc`: applies the retention policy to this device's namespace and reclaims what no one
 * needs any more, in stages (one file each):
 *
 * 1. `history_pruning.ts`: what the policy keeps of every path;
 * 2. `pack_references.ts`: what every namespace still names, besides that;
 * 3. `pack_repack.ts`: mostly dead packs' live chunks copied into new ones;
 * 4. `history_pruning.ts` again: the kept versions become the namespace's new floor, and the
 *    journal objects it covers go;
 * 5. `pack_sweep.ts`: unreferenced objects condemned, and those condemned long enough deleted.
 *
 * One gc at a time per store, by lease (`gc_lease.ts`); nothing is deleted while any journal
 * object cannot be read (what it names is unknown).
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import type { RetentionPolicy } from "../history/retention_policy.ts";
import { withGcLease } from "./gc_lease.ts";
import { pruneHistory, writeFloor } from "./history_pruning.ts";
import {
  addReferences,
  emptyReferences,
  type ScanProblem,
  scanReferences,
} from "./pack_references.ts";
import { repack, repackCandidates } from "./pack_repack.ts";
import { sweepObjects, type SweepResult } from "./pack_sweep.ts";
import { contentObjectSizes } from "../remote/content_objects.ts";
import { forgetCondemnedViews } from "./condemned_packs.ts";
import {
  CHECKPOINT_EVERY_SEGMENTS,
  checkpointKeys,
  coveredBy,
  newestFloor,
} from "../journal/journal_checkpoint.ts";
import { parseCheckpointKey } from "../remote/remote_keys.ts";

/** How a gc runs. */
export interface GcOptions {
  policy: RetentionPolicy;
  /** How long an unreferenced object stays condemned before it is deleted; 0 deletes at once. */
  minAgeMs: number;
  /** Only report what would go. */
  dryRun?: boolean;
  /** How long the lease lasts unless renewed. */
  leaseMs?: number;
}

/** What a gc run kept and freed. */
export interface GcReport {
  namespace: string;
  dry_run: boolean;
  /** The new floor, when one was written. */
  floor?: string;
  versions: { before: number; kept: number; dropped: number };
  /** Segments and checkpoints the floor made obsolete, deleted. */
  journal_objects_deleted: number;
  repacked: { packs: number; bytes_before: number; bytes_after: number };
  objects: SweepResult | undefined;
  /** Journal objects that could not be read: no object was deleted because of them. */
  problems: ScanProblem[];
}

/** The default lease: far longer than a run, renewed between stages. */
const LEASE_MS = 30 * 60_000;

/**
 * Runs gc once.
 *
 * @throws {TcfsError} `gc_lease_held` when another gc holds the store's lease.
 *
 * @example
 * ```ts
 * const report = await runGc(ctx, { policy: retentionPolicy(config.history), minAgeMs: 3600_000 });
 * ```
 */
export async function runGc(ctx: SyncContext, options: GcOptions): Promise<GcReport> {
  const dryRun = options.dryRun ?? false;
  return await withGcLease(
    ctx.store,
    ctx.device,
    options.leaseMs ?? LEASE_MS,
    "tcfs gc",
    async (stillOurs) => {
      const scanStart = new Date();
      // Listed before the scan: an object uploaded after it is no candidate this run.
      const sizes = await contentObjectSizes(ctx.store);
      const pruned = await pruneHistory(ctx, options.policy, scanStart);
      const refs = emptyReferences();
      const problems = await scanReferences(ctx.store, ctx.keys, refs, {
        namespace: ctx.namespace,
        cursors: pruned.cursors,
      });
      problems.push(...pruned.unreadable.map((err) => ({ key: "", why: err.message })));
      for (const version of pruned.kept) addReferences(refs, version, false);
      const report: GcReport = {
        namespace: ctx.namespace,
        dry_run: dryRun,
        versions: {
          before: pruned.before,
          kept: pruned.kept.length,
          dropped: pruned.before - pruned.kept.length,
        },
        journal_objects_deleted: 0,
        repacked: { packs: 0, bytes_before: 0, bytes_after: 0 },
        objects: undefined,
        problems,
      };
      const candidates = problems.length === 0 ? repackCandidates(refs, sizes) : [];
      if (dryRun) {
        report.repacked.packs = candidates.length;
        report.repacked.bytes_before = candidates.reduce((n, k) => n + (sizes.get(k) ?? 0), 0);
      } else if (candidates.length > 0) {
        await stillOurs();
        const moved = await repack(ctx.store, ctx.keys, candidates, refs, pruned.kept, sizes);
        report.repacked = {
          packs: moved.packs,
          bytes_before: moved.bytesBefore,
          bytes_after: moved.bytesAfter,
        };
      }
      const behind = coveredBy(pruned.cursors) - floorCovered(await checkpointKeys(ctx));
      const floorDue = report.versions.dropped > 0 || report.repacked.packs > 0 ||
        behind >= CHECKPOINT_EVERY_SEGMENTS;
      if (!dryRun && floorDue) {
        await stillOurs();
        const floor = await writeFloor(ctx, pruned, options.policy);
        report.floor = floor.key;
        report.journal_objects_deleted = floor.deleted;
      }
      if (problems.length === 0) {
        if (!dryRun) await stillOurs();
        forgetCondemnedViews();
        report.objects = await sweepObjects(ctx.store, refs, sizes, {
          scanStart,
          minAgeMs: options.minAgeMs,
          device: ctx.device.id,
          dryRun,
          log: (key, why) => ctx.log?.("warning", `gc skips ${key}: ${why}`),
        });
      }
      return report;
    },
  );
}

function floorCovered(keys: readonly string[]): number {
  const floor = newestFloor(keys);
  return floor ? parseCheckpointKey(floor)!.covered : 0;
}
