/**
 * The daemon's metrics: what it moved, how long that took, what failed, and how its event
 * transport is doing. Names follow Prometheus conventions (`tcfs_` prefix, base units,
 * `_total` on counters).
 *
 * @module
 */

import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { GcReport } from "../../core/gc/gc_run.ts";
import { tcfsVersion } from "../../core/version.ts";
import {
  type Counter,
  createMetricsRegistry,
  type Gauge,
  type Histogram,
  type MetricsRegistry,
} from "./metrics_registry.ts";
import { registerProcessMetrics } from "./process_metrics.ts";

/** The operations errors are counted by (`tcfs_errors_total{op}`). */
export const ERROR_OPERATIONS = ["push", "pull", "scan", "poll", "watch", "resolve"] as const;
/** One of {@linkcode ERROR_OPERATIONS}. */
export type ErrorOperation = typeof ERROR_OPERATIONS[number];

/**
 * How a gc run ended (`tcfs_gc_runs_total{result}`): `ok`; `problems` (journal objects could
 * not be read, so no pack was deleted); `lease_held` (another gc was running); `error`.
 */
export const GC_RESULTS = ["ok", "problems", "lease_held", "error"] as const;
/** One of {@linkcode GC_RESULTS}. */
export type GcResult = typeof GC_RESULTS[number];

/** Readings taken at scrape time from the parts that own them. */
export interface MetricsSources {
  natsConnected(): boolean;
  /** Reconnections, the state stream's replicas (0 when unknown), and its leader's moves. */
  natsStream(): { reconnects: number; replicas: number; leaderChanges: number };
  outboxDepth(): number;
  storageReachable(): boolean;
}

/** The daemon's metrics, and the registry that renders them. */
export interface DaemonMetrics {
  registry: MetricsRegistry;
  conflicts: Counter;
  errors: Counter;
  eventsPublished: Counter;
  eventsReceived: Counter;
  lastSync: Gauge;
  /** Records a push's figures and duration. */
  recordPush(summary: PushSummary, seconds: number): void;
  /** Records a pull's figures and duration. */
  recordPull(summary: PullSummary, seconds: number): void;
  /** Counts a failed operation. */
  recordError(op: ErrorOperation): void;
  /** Records a gc run (not a dry run), with its report when it finished. */
  recordGc(result: GcResult, report?: GcReport): void;
}

/** Buckets for transfer durations: 5 ms to 5 min. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Creates the registry with every series at zero, plus the process metrics.
 *
 * @example
 * ```ts
 * const metrics = createDaemonMetrics({
 *   natsConnected: () => true,
 *   natsStream: () => ({ reconnects: 0, replicas: 3, leaderChanges: 0 }),
 *   outboxDepth: () => 0,
 *   storageReachable: () => true,
 * });
 * metrics.recordPush(summary, 0.2);
 * ```
 */
export function createDaemonMetrics(sources: MetricsSources): DaemonMetrics {
  const registry = createMetricsRegistry();
  registry.gauge({
    name: "tcfs_build_info",
    help: "Always 1; the label carries the tcfs version.",
    initialLabels: [{ version: tcfsVersion() }],
  }).set(1, { version: tcfsVersion() });
  const counter = (name: string, help: string) => registry.counter({ name, help });
  const uploadedBytes = counter(
    "tcfs_uploaded_bytes_total",
    "Bytes uploaded to the store (packs of chunks).",
  );
  const downloadedBytes = counter(
    "tcfs_downloaded_bytes_total",
    "Bytes downloaded from the store.",
  );
  const uploadedChunks = counter("tcfs_uploaded_chunks_total", "Chunks uploaded (new ones only).");
  const downloadedChunks = counter("tcfs_downloaded_chunks_total", "Chunks downloaded.");
  const pushedFiles = counter(
    "tcfs_pushed_files_total",
    "Files and deletions pushed as new versions.",
  );
  const pulledFiles = counter("tcfs_pulled_files_total", "Files and deletions pulled.");
  const conflicts = counter("tcfs_conflicts_total", "Conflicts met (each path counted once).");
  const errors = registry.counter({
    name: "tcfs_errors_total",
    help: "Failed operations, by operation.",
    initialLabels: ERROR_OPERATIONS.map((op) => ({ op })),
  });
  const eventsPublished = counter(
    "tcfs_events_published_total",
    "State events queued for publishing.",
  );
  const eventsReceived = counter(
    "tcfs_events_received_total",
    "State events received from other devices.",
  );
  registry.gauge({
    name: "tcfs_nats_connected",
    help: "1 when connected to NATS, else 0.",
    collect: () => sources.natsConnected() ? 1 : 0,
  });
  registry.counter({
    name: "tcfs_nats_reconnects_total",
    help: "Reconnections to NATS after losing the server (to it or another of the cluster).",
    collect: () => sources.natsStream().reconnects,
  });
  registry.gauge({
    name: "tcfs_nats_stream_replicas",
    help: "Copies of the state stream the JetStream cluster keeps; 0 before it was seen.",
    collect: () => sources.natsStream().replicas,
  });
  registry.counter({
    name: "tcfs_nats_stream_leader_changes_total",
    help: "Moves of the state stream's leader to another server, as this daemon saw them.",
    collect: () => sources.natsStream().leaderChanges,
  });
  registry.gauge({
    name: "tcfs_nats_outbox_depth",
    help: "State events in the durable outbox waiting for a JetStream ack.",
    collect: () => sources.outboxDepth(),
  });
  registry.gauge({
    name: "tcfs_storage_reachable",
    help: "1 when the store answered the last probe, else 0.",
    collect: () => sources.storageReachable() ? 1 : 0,
  });
  const pushDuration: Histogram = registry.histogram({
    name: "tcfs_push_duration_seconds",
    help: "How long pushes took.",
    buckets: DURATION_BUCKETS,
  });
  const pullDuration: Histogram = registry.histogram({
    name: "tcfs_pull_duration_seconds",
    help: "How long pulls took.",
    buckets: DURATION_BUCKETS,
  });
  const lastSync = registry.gauge({
    name: "tcfs_last_sync_timestamp_seconds",
    help: "When a push or pull last completed without error (unix time); 0 before the first.",
  });
  const gcRuns = registry.counter({
    name: "tcfs_gc_runs_total",
    help: "gc runs (dry runs not counted), by how they ended.",
    initialLabels: GC_RESULTS.map((result) => ({ result })),
  });
  const gcFreedBytes = counter(
    "tcfs_gc_freed_bytes_total",
    "Bytes of packs and chunk objects gc deleted from the store.",
  );
  const gcDeletedObjects = counter(
    "tcfs_gc_deleted_objects_total",
    "Packs and chunk objects gc deleted from the store.",
  );
  const gcCondemnedBytes = registry.gauge({
    name: "tcfs_gc_condemned_bytes",
    help: "Bytes gc condemned that wait for their minimum age, as the last run found.",
  });
  const gcLastRun = registry.gauge({
    name: "tcfs_gc_last_run_timestamp_seconds",
    help: "When a gc run last finished (ok or problems; unix time); 0 before the first.",
  });
  registerProcessMetrics(registry);
  return {
    registry,
    conflicts,
    errors,
    eventsPublished,
    eventsReceived,
    lastSync,
    recordPush(summary, seconds) {
      uploadedBytes.inc(summary.bytes_uploaded);
      uploadedChunks.inc(summary.chunks_uploaded);
      pushedFiles.inc(summary.files + summary.deleted);
      pushDuration.observe(seconds);
    },
    recordPull(summary, seconds) {
      downloadedBytes.inc(summary.bytes_downloaded);
      downloadedChunks.inc(summary.chunks_downloaded);
      pulledFiles.inc(summary.files + summary.deleted);
      pullDuration.observe(seconds);
    },
    recordError: (op) => errors.inc(1, { op }),
    recordGc(result, report) {
      gcRuns.inc(1, { result });
      if (!report) return;
      gcLastRun.set(Date.now() / 1000);
      if (!report.objects) return;
      gcFreedBytes.inc(report.objects.deletedBytes);
      gcDeletedObjects.inc(report.objects.deleted);
      gcCondemnedBytes.set(report.objects.condemnedBytes);
    },
  };
}
