/**
 * `tcfs daemon`: runs the sync service in the foreground.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { LOG_FORMATS, LOG_LEVELS } from "../../core/config/config_schema.ts";
import { setExitCode } from "../output.ts";

/** Builds the command. */
export function daemonCommand() {
  return new Command("daemon")
    .description("run the sync service in the foreground (what systemd and launchd start)")
    .addOption(
      new Option("--log-level <level>", "lowest level logged (default: [daemon] log_level)")
        .choices(LOG_LEVELS),
    )
    .addOption(
      new Option(
        "--log-format <format>",
        "text or JSON lines on stderr (default: [daemon] log_format)",
      )
        .choices(LOG_FORMATS),
    )
    .option("--json", "log JSON lines on stderr (the same as --log-format json)")
    .option("--socket <path>", "control socket (default: [daemon] socket)")
    .option("--foreground", "accepted for compatibility; the daemon always runs in the foreground")
    .addHelpText(
      "after",
      `
The daemon watches [sync] sync_root, pushes changes as they settle, pulls what other
devices announce over NATS (or finds by polling the store every poll_interval_secs when
NATS is off or down), and serves:
  the control API   HTTP on the Unix socket (docs/API.md); \`tcfs status\` asks it
  metrics           http://[daemon] metrics_addr/metrics, /healthz, /readyz

Signals: SIGHUP reloads the config and credentials; SIGTERM or SIGINT stops it cleanly
(the file in flight finishes, device_offline is published) within 10 s.
Under systemd use Type=notify; a user unit also needs NotifyAccess=all (readiness is
sent through systemd-notify, which only root can send on the daemon's behalf).

Examples:
  tcfs daemon
  tcfs daemon --log-format json --log-level debug
  systemctl --user start tcfsd && tcfs status`,
    )
    .action(async (options) => {
      // The daemon and its NATS client load only for this command.
      const { runDaemon } = await import("../../daemon/daemon_main.ts");
      setExitCode(
        await runDaemon({
          logLevel: options.logLevel,
          logFormat: options.json ? "json" : options.logFormat,
          socket: options.socket,
        }),
      );
    });
}
