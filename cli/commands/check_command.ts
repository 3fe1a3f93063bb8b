/**
 * `tcfs check [--read-data] [--repair] [remote]`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { openCliRuntime } from "../cli_runtime.ts";
import { type CheckProblem, checkStore } from "../../core/check/store_check.ts";
import { repairFromLocal, type RepairOutcome } from "../../core/check/check_repair.ts";
import { remoteSpecOrRoot } from "../../core/remote/remote_spec.ts";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { assertNotRevoked } from "../../core/device/device_registry.ts";
import { daemonOrWriterLock } from "../daemon_connection.ts";
import { formatBytes, JSON_FLAG_HELP, printJson, setExitCode } from "../output.ts";

/** `tcfs check --json`. */
export interface CheckReport {
  namespace: string;
  prefix: string;
  read_data: boolean;
  versions_checked: number;
  objects_checked: number;
  bytes_read: number;
  problems: CheckProblem[];
  repairs: RepairOutcome[];
  /** Broken heads left after any repair; exit code 1 when not zero. */
  still_broken: number;
}

/** Builds the command. */
export function checkCommand() {
  return new Command("check")
    .description("verify that every head's content is in the store, and repair it from here")
    .argument(
      "[remote]",
      "remote prefix <bucket>/<namespace>/<path>; default: the configured namespace",
    )
    .option("--read-data", "download every chunk and check its BLAKE3 and each file's digest")
    .option("--repair", "write broken heads again from this device's copies where it has them")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Without --read-data, one listing of the store's packs shows whether every chunk a head
names lies inside a pack that exists; --read-data also finds damaged bytes. It runs in
this process, not through the daemon; --repair writes this device's state, so it takes the
device's writer lock and refuses while a daemon owns it. Exit code 1 when anything is still
broken.

Examples:
  tcfs check
  tcfs check tcfs/default/photos --read-data
  tcfs check --repair --json`,
    )
    .action(async (remote, options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const spec = remoteSpecOrRoot(remote, config.storage.bucket, config.sync.namespace);
        using site = options.repair
          ? await daemonOrWriterLock(runtime, "tcfs check --repair")
          : undefined;
        if (site?.daemon) {
          throw new TcfsError(
            "tcfs check --repair writes this device's state, which its daemon owns",
            {
              kind: "state_locked",
              hint:
                "stop the daemon (systemctl --user stop tcfsd), run the repair, then start it again; " +
                "tcfs check without --repair works beside it",
            },
          );
        }
        const ctx = await runtime.syncContext(spec.namespace);
        if (options.repair) assertNotRevoked(ctx.device, ctx.revoked);
        const found = await checkStore(ctx, { prefix: spec.rel, readData: options.readData });
        const repairs = options.repair ? await repairFromLocal(ctx, found.problems) : [];
        const repaired = new Set(repairs.filter((r) => r.repaired).map((r) => r.version));
        const report: CheckReport = {
          namespace: spec.namespace,
          prefix: spec.rel,
          read_data: options.readData ?? false,
          ...found,
          repairs,
          still_broken: new Set(
            found.problems.filter((p) => !repaired.has(p.version)).map((p) => p.version || p.why),
          ).size,
        };
        if (options.json) printJson(report);
        else console.log(describeReport(report));
        if (report.still_broken > 0) setExitCode(ExitCode.error);
      } finally {
        runtime.close();
      }
    });
}

function describeReport(report: CheckReport): string {
  const lines = [
    `checked ${report.versions_checked} file versions in ${report.objects_checked} objects` +
    (report.read_data ? `, read ${formatBytes(report.bytes_read)}` : ""),
  ];
  for (const problem of report.problems) {
    const where = [problem.object, problem.chunk && `chunk ${problem.chunk}`].filter(Boolean);
    lines.push(
      `BROKEN   ${problem.remote || "(unreadable)"}: ${problem.why}` +
        (where.length > 0 ? ` (${where.join(", ")})` : "") +
        (problem.version ? `\n         version ${problem.version}` : ""),
    );
  }
  for (const repair of report.repairs) {
    lines.push(
      repair.repaired
        ? `REPAIRED ${repair.remote}: written again as ${repair.new_version}`
        : `NOT REPAIRED ${repair.remote}: ${repair.why}`,
    );
  }
  lines.push(
    report.still_broken === 0
      ? (report.problems.length === 0 ? "no problems found" : "everything broken was repaired")
      : `${report.still_broken} broken; ` +
        (report.repairs.length > 0
          ? "repair them from a device that has the files (`tcfs check --repair` there)"
          : "run `tcfs check --repair` on a device that has the files"),
  );
  return lines.join("\n");
}
