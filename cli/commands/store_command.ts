/**
 * `tcfs store encrypt [--rewrite]` and `tcfs store rekey`: end-to-end encryption for a namespace
 * that was plaintext, and a new key epoch for the past too.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { type CliRuntime, openCliRuntime } from "../cli_runtime.ts";
import { encryptNamespace, type EncryptReport } from "../../core/crypto/namespace_encryption.ts";
import { rekeyNamespace, type RekeyReport } from "../../core/crypto/fleet_rekey.ts";
import type { ResealReport } from "../../core/crypto/namespace_resealing.ts";
import type { KeyHolder } from "../../core/crypto/device_keys.ts";
import type { SyncContext } from "../../core/sync/sync_context.ts";
import { assertNotRevoked } from "../../core/device/device_registry.ts";
import { formatDuration } from "../../core/config/duration_text.ts";
import { TcfsError } from "../../core/errors.ts";
import { daemonOrWriterLock } from "../daemon_connection.ts";
import { formatBytes, formatTable, JSON_FLAG_HELP, printJson } from "../output.ts";
import { minAgeOption } from "./gc_command.ts";

/** Builds the command group. */
export function storeCommand() {
  return new Command("store")
    .description("end-to-end encryption of the store: turn it on, or re-key what is stored")
    .addCommand(encryptCommand())
    .addCommand(rekeyCommand());
}

const MIN_AGE_HELP = "how long a replaced plaintext pack stays condemned before it is deleted, " +
  "as in tcfs gc: 90s, 30m, 1h, 2d, 1w or 0 (default: [history] gc_min_age_secs)";

function encryptCommand() {
  return new Command("encrypt")
    .description("turn end-to-end encryption on for the configured namespace")
    .option("--rewrite", "also copy the packs that hold plaintext content sealed, and delete them")
    .option("--min-age <duration>", MIN_AGE_HELP)
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
From now on every device seals what it writes to the namespace ([sync] namespace) with
the fleet's key, and reads only sealed journal objects there. This device must be
approved (\`tcfs creds status\`); in a fleet without any key yet it makes the first one
(epoch 1), without a recovery passphrase.

The namespace's whole history is written again as one sealed floor, and every plaintext
journal object (which names files) is deleted or sealed in place: afterwards no object
under ns/<namespace>/ holds a name. The content already uploaded stays in plaintext packs
until --rewrite copies it into sealed ones (a re-upload of the namespace's content); the
old packs are then condemned and deleted by a later run or tcfs gc, as gc does, or at once
with --min-age 0 on a store nobody else writes to. A pack another namespace also names
stays.

A device still writing in plaintext is refused with not_approved and writes sealed on its
next try once approved; its daemon retries on its own. Run it again when it stopped half
way: it finishes. On a sealed namespace it does nothing (but --rewrite).
Stop this device's daemon while it runs.

Examples:
  tcfs store encrypt
  tcfs store encrypt --rewrite --json | jq .reseal.packs
  tcfs store encrypt --rewrite --min-age 0     # a store nobody else writes to`,
    )
    .action(async (options) => {
      await withStoreContext("tcfs store encrypt", async (runtime, ctx, holder) => {
        const minAgeMs = minAgeOf(runtime, options.minAge);
        const report = await encryptNamespace(ctx, {
          rewrite: !!options.rewrite,
          minAgeMs,
          holder,
        });
        if (options.json) printJson(report);
        else console.log(describeEncrypt(report, minAgeMs));
      });
    });
}

function rekeyCommand() {
  return new Command("rekey")
    .description("start a new key epoch and seal the namespace's whole history and content again")
    .option("--min-age <duration>", MIN_AGE_HELP.replace("plaintext", "old"))
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
\`tcfs device revoke\` already starts a new epoch: a revoked device cannot open anything
written after it. It still holds the older epochs' keys, so whatever was sealed before
stays readable to it from the bucket. rekey starts another epoch, wrapped to the devices
approved now, and seals the configured namespace's history and every pack it names again
with it (a full re-upload of the namespace's content); the old packs are condemned and
deleted as by tcfs gc (at once with --min-age 0).

The chunk-id key does not change, so a revoked device can still tell whether the store
holds content it knows, though not open it. Other namespaces, and packs they also name,
keep their epochs: run rekey in each. Devices pick the new epoch up within a minute; stop
this device's daemon while it runs.

Examples:
  tcfs device revoke old-laptop && tcfs store rekey
  tcfs store rekey --json | jq '{epoch, packs: .reseal.packs}'`,
    )
    .action(async (options) => {
      await withStoreContext("tcfs store rekey", async (runtime, ctx, holder) => {
        const minAgeMs = minAgeOf(runtime, options.minAge);
        const report = await rekeyNamespace(ctx, holder, { minAgeMs });
        if (options.json) printJson(report);
        else console.log(describeRekey(report, minAgeMs));
      });
    });
}

/** Runs `work` with this device's writer lock, context and key holder. */
async function withStoreContext(
  command: string,
  work: (runtime: CliRuntime, ctx: SyncContext, holder: KeyHolder) => Promise<void>,
): Promise<void> {
  const runtime = await openCliRuntime();
  try {
    using site = await daemonOrWriterLock(runtime, command);
    if (site.daemon) {
      throw new TcfsError(`${command} does not run through the daemon`, {
        kind: "daemon_running",
        hint: "stop this device's daemon, run the command, then start the daemon again",
      });
    }
    const ctx = await runtime.syncContext();
    assertNotRevoked(ctx.device, ctx.revoked);
    const holder = {
      id: ctx.device.id,
      name: ctx.device.name,
      ageKeyFile: runtime.config.paths.ageKeyFile,
    };
    await work(runtime, ctx, holder);
  } finally {
    runtime.close();
  }
}

function minAgeOf(runtime: CliRuntime, option: string | undefined): number {
  return option === undefined ? runtime.config.history.gcMinAgeSecs * 1000 : minAgeOption(option);
}

function describeEncrypt(report: EncryptReport, minAgeMs: number): string {
  const lines: string[] = [];
  if (report.created_keychain) {
    lines.push(
      "the fleet had no key: this device made key epoch 1. The fleet has no recovery " +
        "recipient: if every approved device is lost, nothing sealed can be read",
    );
  }
  if (!report.reseal) {
    lines.push(
      `namespace ${report.namespace} is already end-to-end encrypted: nothing to do ` +
        "(--rewrite copies packs that still hold plaintext)",
    );
    return lines.join("\n");
  }
  lines.push(
    report.already_sealed
      ? `namespace ${report.namespace} was already end-to-end encrypted`
      : `namespace ${report.namespace} is end-to-end encrypted now (key epoch ${report.epoch})`,
    describeReseal(report.reseal, minAgeMs),
  );
  if (!report.reseal.objects && report.reseal.packs.left > 0) {
    lines.push(
      `${report.reseal.packs.left} packs hold content uploaded before, in plaintext: run ` +
        "`tcfs store encrypt --rewrite` to copy them sealed and delete them",
    );
  }
  return lines.join("\n");
}

function describeRekey(report: RekeyReport, minAgeMs: number): string {
  return [
    `namespace ${report.namespace} is sealed with key epoch ${report.epoch} now ` +
    `(was ${report.from_epoch})`,
    describeReseal(report.reseal, minAgeMs),
  ].join("\n");
}

function describeReseal(reseal: ResealReport, minAgeMs: number): string {
  const { packs, objects } = reseal;
  const rows = [
    ["history", `${reseal.versions} versions in the sealed floor ${reseal.floor}`],
    [
      "journal",
      `${reseal.journal_objects_deleted} objects deleted, ${reseal.journal_objects_resealed} ` +
      "sealed in place",
    ],
  ];
  if (objects) {
    rows.push(
      [
        "packs",
        `${packs.rewritten} copied sealed, ${formatBytes(packs.bytes_before)} into ` +
        formatBytes(packs.bytes_after) +
        (packs.left > 0 ? `; ${packs.left} left as they are (other namespaces name them)` : ""),
      ],
      [
        "old packs",
        `${objects.deleted} deleted, ${objects.condemned} condemned: deleted by a later ` +
        `tcfs gc once condemned for ${formatDuration(minAgeMs)}`,
      ],
    );
  }
  return formatTable(rows);
}
