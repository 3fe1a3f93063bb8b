/**
 * What one `tcfs doctor` check reports, and how the report prints.
 *
 * @module
 */

/** `ok`: fine. `warn`: works, but should be fixed. `fail`: tcfs cannot work like this. */
export type CheckStatus = "ok" | "warn" | "fail";

/** The outcome of one check. Details name sources, endpoints and paths, never secrets. */
export interface CheckResult {
  /** What was checked, e.g. `s3 reachable`. */
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

/** `tcfs doctor --json`. */
export interface DoctorReport {
  /** True when no check failed (the exit code is then 0). */
  ok: boolean;
  summary: Record<CheckStatus, number>;
  checks: CheckResult[];
}

/**
 * A check result; `fix` is dropped for `ok` ones.
 *
 * @example
 * ```ts
 * checkResult("nats", "fail", "cannot reach nats://yoga.local:4222", "start nats-server");
 * ```
 */
export function checkResult(
  name: string,
  status: CheckStatus,
  detail: string,
  fix?: string,
): CheckResult {
  return status === "ok" || fix === undefined
    ? { name, status, detail }
    : { name, status, detail, fix };
}

/**
 * Sums the checks up.
 *
 * @example
 * ```ts
 * doctorReport([checkResult("credentials", "ok", "from env:TCFS_S3_ACCESS")]).ok; // true
 * ```
 */
export function doctorReport(checks: CheckResult[]): DoctorReport {
  const summary: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0 };
  for (const check of checks) summary[check.status]++;
  return { ok: summary.fail === 0, summary, checks };
}

/**
 * One line per check (`ok`/`warn`/`fail`, the name, what was found), the fix indented under
 * it, and a closing summary.
 *
 * @example
 * ```ts
 * console.log(formatDoctorReport(report));
 * // ok    credentials   from sops:/home/ada/.config/tcfs/secrets.yaml
 * // fail  s3 reachable  cannot reach S3 at http://127.0.0.1:8333: connection refused
 * //                     fix: start SeaweedFS, or check [storage] endpoint
 * ```
 */
export function formatDoctorReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const indent = " ".repeat(6 + width + 2);
  const lines = report.checks.flatMap((check) => [
    `${check.status.padEnd(6)}${check.name.padEnd(width)}  ${check.detail}`,
    ...(check.fix ? [`${indent}fix: ${check.fix}`] : []),
  ]);
  const { ok, warn, fail } = report.summary;
  lines.push("", `${ok} ok, ${warn} warn, ${fail} fail`);
  return lines.join("\n");
}
