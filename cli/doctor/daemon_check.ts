/**
 * `tcfs doctor`: does a daemon answer on the control socket, and is it well?
 *
 * @module
 */

import { createControlClient, daemonAvailable } from "../../daemon/api/control_client.ts";
import { type CheckResult, checkResult } from "./doctor_check.ts";

const NAME = "daemon";
const START_FIX = "start it with `systemctl --user start tcfsd` (after `tcfs device enroll`), " +
  "or run `tcfs daemon`";

/**
 * `ok` when a daemon answers `GET /v1/status` on `socket` and reports its store reachable and
 * NATS connected or disabled; `warn` when none runs or it reports trouble; `fail` when something
 * listens on the socket but does not answer.
 *
 * @example
 * ```ts
 * const result = await daemonCheck(config.daemon.socket);
 * ```
 */
export async function daemonCheck(socket: string): Promise<CheckResult> {
  if (!await daemonAvailable(socket)) {
    return checkResult(
      NAME,
      "warn",
      `no daemon is running (nothing answers on ${socket})`,
      START_FIX,
    );
  }
  using client = createControlClient(socket);
  let status;
  try {
    status = await client.status();
  } catch (err) {
    return checkResult(
      NAME,
      "fail",
      `something listens on ${socket} but GET /v1/status failed: ${(err as Error).message}`,
      "restart the daemon (`systemctl --user restart tcfsd`) and check its log",
    );
  }
  const detail = `pid ${status.pid}, up ${status.uptime_secs} s, credentials from ` +
    `${status.credentials.source} (loaded ${status.credentials.loaded_at})`;
  const problems = [
    ...(status.storage.reachable
      ? []
      : [`its store is unreachable (${status.storage.error ?? "?"})`]),
    ...(status.nats.state === "reconnecting"
      ? [`NATS is reconnecting (${status.nats.last_error ?? "?"})`]
      : []),
  ];
  if (problems.length > 0) {
    return checkResult(
      NAME,
      "warn",
      `${detail}; ${problems.join("; ")}`,
      "see `tcfs status` and the daemon's log (`journalctl --user -u tcfsd`)",
    );
  }
  return checkResult(NAME, "ok", detail);
}
