/**
 * Push and pull as the daemon runs them: several requests at once, timed into the metrics,
 * every path this device changed announced as a state event, conflicts announced once, and
 * each run shown on the activity feed. The sync loop and the control API's push and pull both
 * go through here, so whatever moves is announced the same way.
 *
 * @module
 */

import { journalCursors } from "../../core/journal/folded_versions.ts";
import type { StateEvent } from "../../core/events/state_event.ts";
import { TcfsError } from "../../core/errors.ts";
import { createLimiter } from "../../core/concurrency/limiter.ts";
import { push, type PushRequest } from "../../core/sync/push.ts";
import { pull, type PullRequest } from "../../core/sync/pull.ts";
import {
  emptyPullSummary,
  emptyPushSummary,
  type PullSummary,
  type PushSummary,
} from "../../core/sync/transfer_summary.ts";
import type { SyncContext } from "../../core/sync/sync_context.ts";
import { trackedNamespace } from "../../core/sync/sync_context.ts";
import { parseVersionKey } from "../../core/remote/remote_keys.ts";
import { assertNotRevoked } from "../../core/device/device_registry.ts";
import type { TrackedEntry } from "../../core/state/state_db.ts";
import type { SyncActivity } from "../api/api_types.ts";
import type { DaemonMetrics } from "../metrics/daemon_metrics.ts";
import type { ConflictLedger } from "./conflict_ledger.ts";
import type { FailureLedger } from "./failure_ledger.ts";
import type { DaemonLog } from "../daemon_log.ts";
import { type SyncedChange, syncedChanges, trackedMarks } from "./synced_changes.ts";

/** A state event's own fields; the daemon adds the id, the device and the time. */
export type EventFields = Omit<StateEvent, "id" | "device_id" | "device_name" | "timestamp">;

/** Where a transfer's results go. */
export interface TransferReporting {
  metrics: DaemonMetrics;
  /** Publishes a state event from this device. */
  announce(fields: EventFields): void;
  activity(line: SyncActivity): void;
  conflicts: ConflictLedger;
  /** Paths left out, each logged once (failure_ledger.ts). */
  failures: FailureLedger;
  log: DaemonLog;
}

/** Options of a run of several transfers. */
export interface TransferRunOptions {
  /** How the run shows on the activity feed and in `tcfs_errors_total`. */
  operation: "push" | "scan" | "pull" | "poll";
  /** `[old, new]` renames the watcher saw, to announce moves as `file_renamed`. */
  renames?: readonly [string, string][];
  /** Checked before each request starts; true skips the rest (the daemon is stopping). */
  shouldStop?: () => boolean;
  /** A pull of a remote path that holds nothing is not an error (the sync loop's view). */
  missingIsEmpty?: boolean;
}

/** Requests that run at once. */
const CONCURRENT_REQUESTS = 16;

/**
 * Pushes each request, then announces the versions this device wrote.
 *
 * @throws {TcfsError} kind `device_revoked` when this device was revoked; otherwise the first
 *   request's error once every request has finished (what did get pushed is announced all the
 *   same).
 *
 * @example
 * ```ts
 * const summary = await reportedPushes(reporting, ctx, [{ localPath, remoteRel: "a.txt", excludes }], {
 *   operation: "push",
 * });
 * ```
 */
export async function reportedPushes(
  reporting: TransferReporting,
  ctx: SyncContext,
  requests: readonly PushRequest[],
  options: TransferRunOptions,
): Promise<PushSummary> {
  assertNotRevoked(ctx.device, ctx.revoked);
  return await reportedRun(reporting, ctx, requests.map((r) => r.remoteRel), options, {
    empty: emptyPushSummary,
    dryRun: requests.some((r) => r.dryRun),
    run: async (i) => {
      const started = performance.now();
      const summary = await push(ctx, requests[i]);
      if (!requests[i].dryRun) {
        reporting.metrics.recordPush(summary, (performance.now() - started) / 1000);
      }
      return summary;
    },
  });
}

/**
 * Pulls each request; what it changed shows on the activity feed. Versions this device wrote
 * while pulling (a conflict resolved on the spot) are announced.
 *
 * @throws the first request's error once every request has finished.
 *
 * @example
 * ```ts
 * await reportedPulls(reporting, ctx, [{ remoteRel: "", localTarget: root }], { operation: "poll" });
 * ```
 */
export function reportedPulls(
  reporting: TransferReporting,
  ctx: SyncContext,
  requests: readonly PullRequest[],
  options: TransferRunOptions,
): Promise<PullSummary> {
  return reportedRun(reporting, ctx, requests.map((r) => r.remoteRel), options, {
    empty: emptyPullSummary,
    dryRun: requests.some((r) => r.dryRun),
    run: async (i) => {
      const started = performance.now();
      let summary: PullSummary;
      try {
        summary = await pull(ctx, requests[i]);
      } catch (err) {
        if (!(options.missingIsEmpty && err instanceof TcfsError && err.kind === "not_found")) {
          throw err;
        }
        summary = emptyPullSummary();
      }
      if (!requests[i].dryRun) {
        reporting.metrics.recordPull(summary, (performance.now() - started) / 1000);
      }
      return summary;
    },
  });
}

interface RunParts<S> {
  empty(): S;
  /** A dry run changed nothing: nothing is announced, counted or shown on the feed. */
  dryRun: boolean;
  run(index: number): Promise<S>;
}

async function reportedRun<S extends PushSummary | PullSummary>(
  reporting: TransferReporting,
  ctx: SyncContext,
  rels: readonly string[],
  options: TransferRunOptions,
  parts: RunParts<S>,
): Promise<S> {
  if (parts.dryRun) {
    const planned = parts.empty();
    for (const i of rels.keys()) addInto(planned, await parts.run(i));
    return planned;
  }
  const started = performance.now();
  // Read at and below each path: a path the sync loop took for a file may be a folder by the
  // time it is pushed, and the files pushed in it must be announced too.
  const before = trackedMarks(trackedUnder(ctx, rels));
  const total = parts.empty();
  const changes: SyncedChange[] = [];
  const recorded = new Set<string>();
  // Without renames to pair, each request's changes are announced as soon as it is done, so
  // other devices start pulling a burst while the rest of it is still being pushed.
  const pairRenames = (options.renames ?? []).length > 0;
  const record = (after: readonly TrackedEntry[]) => {
    const fresh = syncedChanges(before, after, options.renames)
      .filter((change) => !recorded.has(change.version_key));
    for (const change of fresh) recorded.add(change.version_key);
    changes.push(...fresh);
    for (const change of fresh) {
      // Only what this device wrote is its to announce (a pull adopts others' versions).
      if (parseVersionKey(change.version_key)?.device !== ctx.device.id) continue;
      const journal_seq = journalCursors(ctx.state, trackedNamespace(ctx)).get(ctx.device.id);
      reporting.announce({ ...change, namespace: ctx.namespace, journal_seq });
    }
  };
  const limiter = createLimiter(CONCURRENT_REQUESTS);
  let failure: unknown;
  /** The paths whose runs went through: only there did a path that did not fail succeed. */
  const covered: string[] = [];
  await Promise.all(rels.map((rel, i) =>
    limiter.run(async () => {
      if (failure !== undefined || options.shouldStop?.()) return;
      try {
        addInto(total, await parts.run(i));
        covered.push(rel);
      } catch (err) {
        failure ??= err;
      }
      if (!pairRenames) record(trackedUnder(ctx, [rel]));
    })
  ));
  if (pairRenames) record(trackedUnder(ctx, rels));
  if (total.auto_resolved.length > 0) {
    // Resolving wrote conflict copies beside the paths, outside what was asked for.
    const startedAt = new Date(Date.now() - (performance.now() - started)).toISOString();
    record(ctx.state.listTracked(trackedNamespace(ctx)).filter((e) => e.syncedAt >= startedAt));
  }
  const conflicts = conflictRels(ctx, total.conflicts);
  for (const path of reporting.conflicts.met(ctx.namespace, conflicts)) {
    reporting.metrics.conflicts.inc();
    reporting.announce({ type: "conflict_detected", namespace: ctx.namespace, path });
  }
  for (const path of conflictRels(ctx, total.auto_resolved)) {
    reporting.conflicts.resolved(ctx.namespace, path);
    reporting.announce({ type: "conflict_resolved", namespace: ctx.namespace, path });
  }
  const errorOp = options.operation;
  const direction = errorOp === "push" || errorOp === "scan" ? "push" : "pull";
  for (const left of reporting.failures.met(ctx.namespace, direction, covered, total.failures)) {
    reporting.log("warning", `could not ${direction} ${left.path}: ${left.error}`);
  }
  if (failure !== undefined || total.failures.length > 0) reporting.metrics.recordError(errorOp);
  else reporting.metrics.lastSync.set(Date.now() / 1000);
  if (failure !== undefined || changes.length > 0 || conflicts.length > 0) {
    reporting.activity({
      kind: "sync",
      at: new Date().toISOString(),
      operation: options.operation,
      outcome: failure === undefined ? "ok" : "error",
      paths: changes.map((c) => c.path),
      ...(conflicts.length > 0 ? { conflicts } : {}),
      ...(failure === undefined ? {} : { error: (failure as Error).message }),
      duration_ms: Math.round(performance.now() - started),
    });
  }
  if (failure !== undefined) throw failure;
  return total;
}

/** The tracked entries at or below any of `rels` (the whole namespace when one is ""). */
function trackedUnder(ctx: SyncContext, rels: readonly string[]): TrackedEntry[] {
  if (rels.includes("")) return ctx.state.listTracked(trackedNamespace(ctx));
  const byPath = new Map<string, TrackedEntry>();
  for (const rel of new Set(rels)) {
    for (const entry of ctx.state.listTracked(trackedNamespace(ctx), rel)) {
      byPath.set(entry.path, entry);
    }
  }
  return [...byPath.values()];
}

/** Paths relative to the namespace, from the `<bucket>/<namespace>/<path>` a summary lists. */
function conflictRels(ctx: SyncContext, displayed: readonly string[]): string[] {
  const prefix = `${ctx.bucket}/${ctx.namespace}/`;
  return displayed.map((d) => (d.startsWith(prefix) ? d.slice(prefix.length) : d));
}

/** Adds a summary's counts and lists into `total`. */
function addInto<S extends PushSummary | PullSummary>(total: S, part: S): void {
  const sum = total as unknown as Record<string, number | unknown[]>;
  for (const [field, value] of Object.entries(part)) {
    if (typeof value === "number") sum[field] = ((sum[field] as number) ?? 0) + value;
    else if (Array.isArray(value)) sum[field] = [...((sum[field] as unknown[]) ?? []), ...value];
  }
}
