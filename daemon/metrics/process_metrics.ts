/**
 * The standard `process_*` metrics every Prometheus client exports, read at scrape time.
 *
 * @module
 */

import process from "node:process";
import type { MetricsRegistry } from "./metrics_registry.ts";

/**
 * Registers `process_resident_memory_bytes`, `process_cpu_seconds_total`,
 * `process_start_time_seconds` and, where `/proc` exists, `process_open_fds`.
 *
 * @example
 * ```ts
 * registerProcessMetrics(registry);
 * ```
 */
export function registerProcessMetrics(registry: MetricsRegistry): void {
  const startTimeSeconds = performance.timeOrigin / 1000;
  registry.gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    collect: () => Deno.memoryUsage().rss,
  });
  registry.counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    collect: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    },
  });
  registry.gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    collect: () => startTimeSeconds,
  });
  if (openFdCount() !== undefined) {
    registry.gauge({
      name: "process_open_fds",
      help: "Number of open file descriptors.",
      collect: () => openFdCount() ?? 0,
    });
  }
}

function openFdCount(): number | undefined {
  try {
    let count = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
    return count;
  } catch {
    return undefined;
  }
}
