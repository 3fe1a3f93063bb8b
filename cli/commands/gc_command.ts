/**
 * `tcfs gc [--dry-run] [--min-age DURATION]`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { openCliRuntime } from "../cli_runtime.ts";
import { type GcReport, runGc } from "../../core/gc/gc_run.ts";
import { safeMinAgeMs } from "../../core/gc/condemned_packs.ts";
import { retentionPolicy } from "../../core/history/retention_policy.ts";
import { formatDuration, parseDuration } from "../../core/config/duration_text.ts";
import { assertNotRevoked } from "../../core/device/device_registry.ts";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { daemonOrWriterLock } from "../daemon_connection.ts";
import { formatBytes, formatTable, JSON_FLAG_HELP, printJson, setExitCode } from "../output.ts";

/** Builds the command. */
export function gcCommand() {
  const safe = formatDuration(safeMinAgeMs());
  return new Command("gc")
    .description(
      "apply the [history] retention policy and delete what no kept version needs any more",
    )
    .option("--dry-run", "report what would be dropped, repacked and deleted; change nothing")
    .option(
      "--min-age <duration>",
      "how long an unreferenced pack stays condemned before it is deleted: 90s, 30m, 1h, 2d, 1w " +
        "or 0 (default: [history] gc_min_age_secs)",
    )
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
gc works on the configured namespace ([sync] namespace) with its [history] policy
(keep_days, keep_last, staggered): the versions the policy no longer keeps are dropped, the
kept ones become the namespace's new floor, and the journal objects that floor covers are
deleted. Then the packs and chunk objects that no namespace references any more are
condemned, and deleted by a later run once they have been condemned for the minimum age;
packs that are mostly dead are repacked first. A pack is condemned, never deleted at once,
because another device may have uploaded it for a push that has not named it yet.

--min-age 0 deletes unreferenced objects at once: only for a store nobody else is writing
to (tests, a store this device alone uses). Any value below ${safe} (the safe minimum) is
unsafe beside other writers, and tcfs gc warns.

One gc runs at a time per store (a lease in the bucket): while another device's runs, this
one stops with gc_lease_held and names its holder. The daemon runs gc on its own every
[history] gc_interval_secs; with a daemon serving this device, tcfs gc runs through it.
Exit code 1 when journal objects could not be read (then nothing is deleted from the store).

Examples:
  tcfs gc --dry-run
  tcfs gc
  tcfs gc --min-age 0 --json | jq .objects.deletedBytes   # a test store nobody else uses`,
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const minAgeMs = options.minAge === undefined
          ? config.history.gcMinAgeSecs * 1000
          : minAgeOption(options.minAge);
        if (minAgeMs < safeMinAgeMs() && !options.dryRun) {
          console.error(
            `tcfs: warning: a minimum age of ${formatDuration(minAgeMs)} is below the safe ` +
              `${safe}: a pack another device is still pushing may be deleted before that push ` +
              "names it; use it only on a store no other device writes to",
          );
        }
        using site = await daemonOrWriterLock(runtime, "tcfs gc", { dryRun: options.dryRun });
        let report: GcReport;
        if (site.daemon) {
          report = await site.daemon.gc({
            dry_run: options.dryRun,
            min_age_secs: options.minAge === undefined ? undefined : Math.round(minAgeMs / 1000),
          });
        } else {
          const ctx = await runtime.syncContext();
          assertNotRevoked(ctx.device, ctx.revoked);
          report = await runGc(ctx, {
            policy: retentionPolicy(config.history),
            minAgeMs,
            dryRun: options.dryRun,
          });
        }
        if (options.json) printJson(report);
        else console.log(describeReport(report, minAgeMs));
        if (report.problems.length > 0) setExitCode(ExitCode.error);
      } finally {
        runtime.close();
      }
    });
}

/** The `--min-age` option's duration in ms. */
export function minAgeOption(text: string): number {
  const ms = parseDuration(text);
  if (ms !== undefined) return ms;
  throw new TcfsError(`--min-age ${JSON.stringify(text)} is not a duration`, {
    kind: "usage",
    exitCode: ExitCode.usage,
    hint: "give a number with a unit, such as 90s, 30m, 1h, 2d or 1w, or 0",
  });
}

function describeReport(report: GcReport, minAgeMs: number): string {
  const dry = report.dry_run;
  const { versions, repacked, objects } = report;
  const rows = [
    [
      "versions",
      `${versions.before} in history: ${versions.kept} kept, ${versions.dropped} ` +
      (dry ? "would be dropped" : "dropped"),
    ],
  ];
  if (!dry) {
    rows.push([
      "journal",
      `${report.journal_objects_deleted} objects deleted` +
      (report.floor ? `; new floor ${report.floor}` : ""),
    ]);
  }
  if (repacked.packs > 0) {
    rows.push([
      "repacked",
      `${repacked.packs} mostly dead packs, ${formatBytes(repacked.bytes_before)}` +
      (dry ? " (would be repacked)" : ` into ${formatBytes(repacked.bytes_after)}`),
    ]);
  }
  if (objects) {
    rows.push(
      [
        "store",
        `${objects.objects} objects, ${formatBytes(objects.bytes)}; ${objects.referenced} ` +
        `referenced, ${formatBytes(objects.referencedBytes)}`,
      ],
      [
        "condemned",
        `${objects.condemned} objects, ${formatBytes(objects.condemnedBytes)}: deleted by a ` +
        `later gc once condemned for ${formatDuration(minAgeMs)}`,
      ],
      [
        "deleted",
        `${objects.deleted} objects, ${formatBytes(objects.deletedBytes)} ` +
        (dry ? "would be freed" : "freed"),
      ],
    );
    if (objects.rescued > 0) {
      rows.push(["rescued", `${objects.rescued} condemned objects referenced again: kept`]);
    }
  }
  const lines = [
    `gc of namespace ${report.namespace}` + (dry ? " (dry run: nothing was changed)" : ""),
    formatTable(rows),
  ];
  for (const problem of report.problems) {
    lines.push(`PROBLEM  ${problem.key || "(this device's fold)"}: ${problem.why}`);
  }
  if (report.problems.length > 0) {
    lines.push(
      `nothing was deleted from the store: ${report.problems.length} journal objects could not ` +
        "be read, so the packs they name are unknown; see `tcfs check`, then run tcfs gc again",
    );
  }
  return lines.join("\n");
}
