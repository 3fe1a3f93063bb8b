/**
 * `tcfs device approve <name>`: wraps the fleet's current key epoch to an enrolled device, so
 * that it can read and write the encrypted namespaces.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { openCliRuntime } from "../cli_runtime.ts";
import { type DeviceRecord, isLiveDevice } from "../../core/device/device_record.ts";
import { findDevice } from "../../core/device/device_registry.ts";
import { rebuildDeviceIndex } from "../../core/device/device_index.ts";
import { approveDevice } from "../../core/crypto/keychain_membership.ts";
import { JSON_FLAG_HELP, printJson } from "../output.ts";

/** Builds the command. */
export function deviceApproveCommand() {
  return new Command("approve")
    .description("let an enrolled device read the fleet's encrypted files (run on an approved one)")
    .argument("<device>", "the device's name (or id)")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs device approve petting-zoo-mini
  tcfs device approve xoxd-bates --json | jq .epoch

The current key epoch is wrapped to the age public key the device registered; compare it with
\`tcfs device status\` on that device if the bucket may have been tampered with. Approving an
approved device changes nothing. Revoked and replaced devices are refused.`,
    )
    .action(async (nameOrId, options) => {
      const runtime = await openCliRuntime();
      try {
        const store = await runtime.store();
        const me = await runtime.device();
        const { fleet } = await rebuildDeviceIndex(store, { attempts: 1 });
        const target = approvable(findDevice(fleet.devices, nameOrId), nameOrId, store.location);
        const update = await approveDevice(
          store,
          await runtime.state(),
          { id: me.id, name: me.name, ageKeyFile: runtime.config.paths.ageKeyFile },
          target,
        );
        const result = {
          device: { id: target.id, name: target.name, age_public_key: target.age_public_key },
          keychain: update.state === "none" ? "none" : "present",
          epoch: update.state === "none" ? null : update.keychain.epoch,
          already_approved: update.state === "unchanged",
        };
        if (options.json) return printJson(result);
        if (update.state === "none") {
          return console.log(
            "the fleet has no keychain (its devices enrolled with --no-encrypt): every device " +
              "reads its plaintext namespaces already; nothing to approve",
          );
        }
        console.log(
          update.state === "unchanged"
            ? `device "${target.name}" is already approved for key epoch ${result.epoch}`
            : `approved device "${target.name}" (${target.id}) for key epoch ${result.epoch}\n` +
              `  wrapped to its age public key ${target.age_public_key}`,
        );
      } finally {
        runtime.close();
      }
    });
}

/** The device to approve, or a clear refusal. */
function approvable(
  record: DeviceRecord | undefined,
  nameOrId: string,
  location: string,
): DeviceRecord {
  if (!record) {
    throw new TcfsError(`no device ${JSON.stringify(nameOrId)} is registered in ${location}`, {
      kind: "device_not_found",
      exitCode: ExitCode.usage,
      hint: "enroll it first (`tcfs device enroll` on that machine); see the names with " +
        "`tcfs device list`",
    });
  }
  if (record.revoked) {
    throw new TcfsError(
      `device "${record.name}" (${record.id}) is revoked: it cannot be approved`,
      {
        kind: "device_revoked",
        exitCode: ExitCode.usage,
        hint: "a revoked device stays out; to let the machine back in, enroll it as a new device " +
          "and approve that one",
      },
    );
  }
  if (!isLiveDevice(record)) {
    throw new TcfsError(
      `device ${record.id} was replaced by ${record.replaced_by}: it cannot be approved`,
      {
        kind: "invalid_argument",
        exitCode: ExitCode.usage,
        hint: `approve the device that holds the name "${record.name}" now`,
      },
    );
  }
  return record;
}
