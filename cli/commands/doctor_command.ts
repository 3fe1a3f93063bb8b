/**
 * `tcfs doctor`: every check that tells whether this machine can sync, in one go.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { ExitCode } from "../../core/errors.ts";
import { configuredNatsUrl } from "../../core/runtime/device_setup.ts";
import { openCliRuntime } from "../cli_runtime.ts";
import { credentialsCheck } from "../doctor/credentials_check.ts";
import { daemonCheck } from "../doctor/daemon_check.ts";
import { instanceCheck } from "../doctor/instance_check.ts";
import { keysCheck } from "../doctor/keys_check.ts";
import { doctorReport, formatDoctorReport } from "../doctor/doctor_check.ts";
import { serviceUnitCheck } from "../doctor/service_unit_check.ts";
import { storeChecks } from "../doctor/store_checks.ts";
import { JSON_FLAG_HELP, printJson, setExitCode } from "../output.ts";

/** Builds the command. */
export function doctorCommand() {
  return new Command("doctor")
    .description(
      "check credentials, S3, the clock, NATS, the daemon, the service unit and the key epoch",
    )
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Each line is ok, warn or fail, with the fix under it. Exit code 0 when nothing fails, 1 otherwise.
The bucket check writes and deletes one small object under tcfs-meta/doctor/.

Examples:
  tcfs doctor
  tcfs doctor --json | jq '.checks[] | select(.status != "ok")'`,
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const credentials = await runtime.credentials();
        const groups = await Promise.all([
          [credentialsCheck(config, credentials)],
          storeChecks({ config, credentials, deviceName: config.sync.deviceName }),
          (await import("../doctor/nats_check.ts")).natsChecks(
            configuredNatsUrl(config, credentials),
            config.nats,
            config.sync.pollIntervalSecs,
          ),
          daemonCheck(config.daemon.socket).then((check) => [check]),
          instanceCheck(config, runtime.store).then((check) => [check]),
          keysCheck(runtime).then((check) => [check]),
          serviceUnitCheck(runtime.env).then((check) => [check]),
        ]);
        const report = doctorReport(groups.flat());
        if (options.json) printJson(report);
        else console.log(formatDoctorReport(report));
        if (!report.ok) setExitCode(ExitCode.error);
      } finally {
        runtime.close();
      }
    });
}
