/**
 * The daemon's log: stderr, as text lines (for terminals and journald) or JSON lines (for log
 * collectors), through LogTape. Writes are synchronous, so nothing is lost when the process
 * exits right after logging.
 *
 * @module
 */

import {
  configure,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type LogRecord,
  reset,
} from "@logtape/logtape";
import type { LogFormat, LogLevel } from "../core/config/config_schema.ts";

/** Writes one message at a level. Messages must never contain secrets. */
export type DaemonLog = (level: LogLevel, message: string) => void;

/** The log's settings. */
export interface DaemonLogSettings {
  level: LogLevel;
  format: LogFormat;
}

const CATEGORY = ["tcfs"];

/**
 * Sets (or changes, on reload) where and how the daemon logs.
 *
 * @example
 * ```ts
 * await configureDaemonLog({ level: "info", format: "json" });
 * daemonLog()("info", "serving on /run/user/1000/tcfsd.sock");
 * ```
 */
export async function configureDaemonLog(settings: DaemonLogSettings): Promise<void> {
  const format = settings.format === "json"
    ? jsonLinesFormatter
    : getTextFormatter({ timestamp: "date-time-tz" });
  const encoder = new TextEncoder();
  const stderr = (record: LogRecord) => {
    const bytes = encoder.encode(format(record));
    for (let written = 0; written < bytes.length;) {
      written += Deno.stderr.writeSync(bytes.subarray(written));
    }
  };
  await configure({
    reset: true,
    sinks: { stderr },
    loggers: [
      { category: CATEGORY, lowestLevel: settings.level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

/**
 * The daemon's logger. A message is logged as it is (braces are not placeholders).
 *
 * @example
 * ```ts
 * const log = daemonLog();
 * log("warning", "NATS is unreachable: {connection refused}");
 * ```
 */
export function daemonLog(): DaemonLog {
  const logger = getLogger(CATEGORY);
  return (level, message) =>
    logger.emit({
      timestamp: Date.now(),
      level,
      message: [message],
      rawMessage: message,
      properties: {},
    });
}

/**
 * Stops logging (at exit).
 *
 * @example
 * ```ts
 * await closeDaemonLog();
 * ```
 */
export async function closeDaemonLog(): Promise<void> {
  await reset();
}
