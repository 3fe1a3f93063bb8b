/**
 * Where a daemon's transfers report, for tests: real metrics and conflict ledger, with the
 * announced events and the activity lines kept for the test to read; and the metrics alone.
 *
 * @module
 */

import type { SyncActivity } from "../../daemon/api/api_types.ts";
import { createDaemonMetrics, type DaemonMetrics } from "../../daemon/metrics/daemon_metrics.ts";
import { createFailureLedger } from "../../daemon/sync/failure_ledger.ts";
import { createConflictLedger } from "../../daemon/sync/conflict_ledger.ts";
import type { EventFields, TransferReporting } from "../../daemon/sync/reported_transfers.ts";

/**
 * A daemon's metrics with NATS disabled and the store reachable.
 *
 * @example
 * ```ts
 * const metrics = metricsWithoutNats();
 * metrics.registry.render();
 * ```
 */
export function metricsWithoutNats(): DaemonMetrics {
  return createDaemonMetrics({
    natsConnected: () => false,
    natsStream: () => ({ reconnects: 0, replicas: 0, leaderChanges: 0 }),
    outboxDepth: () => 0,
    storageReachable: () => true,
  });
}

/** A {@linkcode TransferReporting} and what it was told. */
export interface RecordingReporting {
  reporting: TransferReporting;
  announced: EventFields[];
  activities: SyncActivity[];
  /** What it logged, as `level: message`. */
  logged: string[];
}

/**
 * A reporting with nothing recorded yet, for a daemon without NATS.
 *
 * @example
 * ```ts
 * const { reporting, announced } = recordingReporting();
 * await reportedPushes(reporting, ctx, requests, { operation: "push" });
 * console.log(announced.map((e) => e.path));
 * ```
 */
export function recordingReporting(): RecordingReporting {
  const announced: EventFields[] = [];
  const activities: SyncActivity[] = [];
  const logged: string[] = [];
  return {
    reporting: {
      metrics: metricsWithoutNats(),
      announce: (fields) => announced.push(fields),
      activity: (line) => activities.push(line),
      conflicts: createConflictLedger(),
      failures: createFailureLedger(),
      log: (level, message) => logged.push(`${level}: ${message}`),
    },
    announced,
    activities,
    logged,
  };
}
