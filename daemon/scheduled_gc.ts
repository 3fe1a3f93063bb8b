/**
 * The daemon's gc: the runs `tcfs gc` asks for through the control API, and a run of its own
 * every `[history] gc_interval_secs`. Each run waits its turn between two steps of the sync
 * loop, since gc refolds this device's view of the namespace. Runs of the whole fleet never
 * overlap: gc takes the store's lease, and a scheduled run that finds it held leaves the work
 * to its holder and waits for the next interval.
 *
 * The first scheduled run comes one interval after start, not at start: a fleet restarted
 * together (an upgrade) would otherwise all contend at once, and a daemon restarted in a loop
 * would run gc every time. Each wait is jittered by ±10 % for the same reason.
 *
 * @module
 */

import type { TcfsConfig } from "../core/config/config_schema.ts";
import type { SyncContext } from "../core/sync/sync_context.ts";
import { type GcReport, runGc } from "../core/gc/gc_run.ts";
import { safeMinAgeMs } from "../core/gc/condemned_packs.ts";
import { retentionPolicy } from "../core/history/retention_policy.ts";
import { assertNotRevoked } from "../core/device/device_registry.ts";
import { formatDuration } from "../core/config/duration_text.ts";
import { TcfsError } from "../core/errors.ts";
import type { GcRunRecord, GcStatus } from "./api/api_types.ts";
import type { DaemonLog } from "./daemon_log.ts";
import type { DaemonMetrics, GcResult } from "./metrics/daemon_metrics.ts";

/** Options for {@linkcode createScheduledGc}. */
export interface ScheduledGcOptions {
  /** The config in effect (its `[history]` is read at every run and every wait). */
  config(): TcfsConfig;
  /** Runs `operation` between two steps of the sync loop. */
  exclusive<T>(operation: (ctx: SyncContext) => Promise<T>): Promise<T>;
  metrics: DaemonMetrics;
  log: DaemonLog;
  /** A number in [0, 1) for the jitter; `Math.random` unless a test fixes it. */
  random?: () => number;
}

/** One run, as the control API asks for it. */
export interface GcRunRequest {
  dryRun?: boolean;
  /** Default: `[history] gc_min_age_secs`. */
  minAgeMs?: number;
}

/** The daemon's gc. */
export interface ScheduledGc {
  /** Runs gc now (between two loop steps); records and logs it unless it is a dry run. */
  run(request: GcRunRequest, trigger?: GcRunRecord["trigger"]): Promise<GcReport>;
  /** Schedules the first run, one interval from now. */
  start(): void;
  /** The config was reloaded: a new interval counts from now. */
  settingsChanged(): void;
  status(): GcStatus;
  /** No more scheduled runs (a run under way ends with the sync loop). */
  stop(): void;
}

/** Each wait is the interval, give or take this share of it. */
const JITTER = 0.1;
/** The longest a timer can wait (about 24.8 days); longer waits are taken in turns. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Creates the daemon's gc; nothing is scheduled until {@linkcode ScheduledGc.start}.
 *
 * @example
 * ```ts
 * const gc = createScheduledGc({ config: () => live.setup.config, exclusive, metrics, log });
 * gc.start();
 * const report = await gc.run({ dryRun: true }); // POST /v1/gc
 * gc.stop();
 * ```
 */
export function createScheduledGc(options: ScheduledGcOptions): ScheduledGc {
  const { log, metrics } = options;
  const random = options.random ?? Math.random;
  const history = () => options.config().history;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let dueAt: number | undefined;
  let scheduledEverySecs: number | undefined;
  let stopped = false;
  let last: GcRunRecord | undefined;
  let warnedMinAgeMs: number | undefined;

  const run = async (
    request: GcRunRequest,
    trigger: GcRunRecord["trigger"] = "api",
  ): Promise<GcReport> => {
    const dryRun = request.dryRun ?? false;
    const minAgeMs = request.minAgeMs ?? history().gcMinAgeSecs * 1000;
    const started = Date.now();
    const finish = (result: GcResult, report?: GcReport, err?: unknown) => {
      if (dryRun) return;
      metrics.recordGc(result, report);
      last = {
        at: new Date().toISOString(),
        trigger,
        result,
        duration_ms: Date.now() - started,
        ...(report
          ? {
            versions_dropped: report.versions.dropped,
            deleted_objects: report.objects?.deleted ?? 0,
            freed_bytes: report.objects?.deletedBytes ?? 0,
          }
          : {}),
        ...(err ? { error: err instanceof Error ? err.message : String(err) } : {}),
      };
      logRun(log, last, report, minAgeMs);
    };
    // Said once per value, not at every run of a schedule.
    if (minAgeMs < safeMinAgeMs() && !dryRun && minAgeMs !== warnedMinAgeMs) {
      warnedMinAgeMs = minAgeMs;
      log(
        "warning",
        `gc with a minimum age of ${formatDuration(minAgeMs)}, below the safe ` +
          `${formatDuration(safeMinAgeMs())}: a pack another device is still pushing may be ` +
          "deleted before that push names it; only for a store no other device writes to",
      );
    }
    try {
      const report = await options.exclusive((ctx) => {
        assertNotRevoked(ctx.device, ctx.revoked);
        return runGc(ctx, { policy: retentionPolicy(history()), minAgeMs, dryRun });
      });
      finish(report.problems.length > 0 ? "problems" : "ok", report);
      return report;
    } catch (err) {
      const held = err instanceof TcfsError && err.kind === "gc_lease_held";
      if (!(err instanceof TcfsError && err.kind === "daemon_stopping")) {
        finish(held ? "lease_held" : "error", undefined, err);
      }
      throw err;
    }
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = undefined;
    dueAt = undefined;
    scheduledEverySecs = history().gcIntervalSecs;
    if (stopped || scheduledEverySecs === 0) return;
    const everyMs = scheduledEverySecs * 1000;
    dueAt = Date.now() + Math.round(everyMs * (1 - JITTER + 2 * JITTER * random()));
    arm();
  };
  const arm = () => {
    timer = setTimeout(async () => {
      if (dueAt !== undefined && Date.now() < dueAt) return arm();
      timer = undefined;
      dueAt = undefined;
      // Logged and recorded by the run; a held lease means another device is at it.
      await run({}, "schedule").catch(() => {});
      if (timer === undefined) schedule();
    }, Math.min(MAX_TIMER_MS, Math.max(0, (dueAt ?? 0) - Date.now())));
    Deno.unrefTimer(timer);
  };

  return {
    run,
    start: schedule,
    settingsChanged() {
      if (history().gcIntervalSecs !== scheduledEverySecs) schedule();
    },
    status: () => ({
      interval_secs: history().gcIntervalSecs,
      ...(dueAt !== undefined ? { next_run_at: new Date(dueAt).toISOString() } : {}),
      ...(last ? { last_run: last } : {}),
    }),
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      dueAt = undefined;
    },
  };
}

/** One line per run: what it kept and freed, or why it did not. */
function logRun(log: DaemonLog, run: GcRunRecord, report: GcReport | undefined, minAgeMs: number) {
  const seconds = (run.duration_ms / 1000).toFixed(1);
  if (!report) {
    const held = run.result === "lease_held";
    log(
      held ? "info" : "warning",
      `gc (${run.trigger}) ${held ? "skipped" : "failed"}: ${run.error}`,
    );
    return;
  }
  const { versions, objects, repacked } = report;
  const parts = [
    `kept ${versions.kept} of ${versions.before} versions`,
    `deleted ${report.journal_objects_deleted} journal objects`,
    ...(repacked.packs > 0
      ? [`repacked ${repacked.packs} packs (${repacked.bytes_before} to ${repacked.bytes_after} B)`]
      : []),
  ];
  if (objects?.condemned) {
    parts.push(
      `${objects.condemned} objects (${objects.condemnedBytes} B) condemned for ` +
        formatDuration(minAgeMs),
    );
  }
  if (objects) parts.push(`deleted ${objects.deleted} objects, freeing ${objects.deletedBytes} B`);
  const problems = report.problems.length > 0
    ? `; nothing deleted from the store: ${report.problems.length} journal objects could not ` +
      `be read (${report.problems[0].key || "the fold"}: ${report.problems[0].why})`
    : "";
  log(
    problems ? "warning" : "info",
    `gc of ${report.namespace} (${run.trigger}, ${seconds} s): ${parts.join(", ")}${problems}`,
  );
}
