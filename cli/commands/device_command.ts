/**
 * `tcfs device enroll|list|status|approve|revoke`: the fleet registry in the bucket, and who
 * holds the fleet's keys.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { type CliRuntime, openCliRuntime } from "../cli_runtime.ts";
import { readDeviceIdentity } from "../../core/device/device_identity.ts";
import { type DeviceRecord, isLiveDevice } from "../../core/device/device_record.ts";
import { findDevice, readDevice, revokeDevice } from "../../core/device/device_registry.ts";
import { rebuildDeviceIndex } from "../../core/device/device_index.ts";
import { xdgDirs } from "../../platform/xdg_dirs.ts";
import {
  isServiceInstalled,
  type ServiceManager,
  serviceManagerFor,
  servicePath,
} from "../../platform/service_install.ts";
import { formatTable, JSON_FLAG_HELP, printJson } from "../output.ts";
import { formatTimeAgo } from "../relative_time.ts";
import { deviceEnrollCommand } from "./device_enroll_command.ts";
import { deviceApproveCommand } from "./device_approve_command.ts";
import { deviceInviteCommand } from "./device_invite_command.ts";
import { startEpochWithout } from "../../core/crypto/keychain_membership.ts";
import type { DeviceKeyStatus } from "../../core/crypto/device_key_status.ts";
import { thisDeviceKeys } from "../this_device_keys.ts";

/** Builds the command group. */
export function deviceCommand() {
  const device = new Command("device").description(
    "this machine's place in the fleet: enroll, list, status, approve, invite, revoke",
  );
  for (
    const command of [
      deviceEnrollCommand(),
      deviceListCommand(),
      deviceStatusCommand(),
      deviceApproveCommand(),
      deviceInviteCommand(),
      deviceRevokeCommand(),
    ]
  ) {
    // Usage errors must reach runTcfs (exit code 2) instead of exiting here.
    device.addCommand(
      command.exitOverride().showHelpAfterError(
        "(run with --help for usage)",
      ) as unknown as Command,
    );
  }
  return device;
}

/** A device as `list --json` shows it. */
type ListedDevice = DeviceRecord & {
  status: string;
  this_device: boolean;
  /**
   * Whether the device holds the newest key epoch: `unknown` when this device cannot read the
   * keychain, `no_keychain` when the fleet has none.
   */
  key_access: "approved" | "not_approved" | "unknown" | "no_keychain";
  /** The newest key epoch, or null without a keychain. */
  key_epoch: number | null;
};

function deviceListCommand() {
  return new Command("list")
    .description("every device registered in the bucket, revoked ones marked")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs device list
  tcfs device list --json | jq -r '.[] | select(.status == "active") | .name'

The per-device registrations are the truth; tcfs-meta/devices.json is rebuilt from them when it
is stale or damaged.`,
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        const me = await readDeviceIdentity(runtime.config.paths.deviceFile);
        // One attempt: a lost race means another device is rebuilding the index right now.
        const { fleet } = await rebuildDeviceIndex(await runtime.store(), { attempts: 1 });
        for (const key of fleet.damaged) {
          console.error(`tcfs: warning: ${key} is not a valid device registration; skipped`);
        }
        const keys = await thisDeviceKeys(runtime);
        const listed: ListedDevice[] = fleet.devices.map((d) => ({
          ...d,
          status: deviceStatus(d),
          this_device: d.id === me?.id,
          key_access: keyAccess(keys, d),
          key_epoch: keys?.epoch ?? null,
        }));
        if (options.json) return printJson(listed);
        if (listed.length === 0) {
          return console.log("no devices enrolled yet; run `tcfs device enroll` on each machine");
        }
        const now = new Date();
        console.log(formatTable([
          ["NAME", "STATUS", "KEYS", "ID", "LAST SEEN", "PLATFORM", "VERSION"],
          ...listed.map((d) => [
            d.this_device ? `${d.name} *` : d.name,
            d.status,
            describeKeyAccess(d),
            d.id.slice(0, 8),
            formatTimeAgo(d.last_seen, now),
            d.platform,
            d.tcfs_version,
          ]),
        ]));
        if (listed.some((d) => d.this_device)) console.log("\n* this device");
        if (listed.some((d) => d.key_access === "not_approved" && d.status === "active")) {
          console.log("pending devices read nothing until `tcfs device approve <name>`");
        }
      } finally {
        runtime.close();
      }
    });
}

function deviceStatusCommand() {
  return new Command("status")
    .description("this device: id, name, age key, config, service file, registration")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      "\nExamples:\n  tcfs device status\n  tcfs device status --json | jq .registration",
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        const { config, env } = runtime;
        const identity = await readDeviceIdentity(config.paths.deviceFile);
        const { readFirstRecipient } = await import("../../core/device/device_age_key.ts");
        const agePublicKey = await readFirstRecipient(config.paths.ageKeyFile);
        const service = await installedService(env);
        const registration: RegistrationState = identity
          ? await registrationState(identity.id, runtime)
          : { state: "not_enrolled" };
        const status = {
          id: identity?.id ?? null,
          name: identity?.name ?? config.sync.deviceName,
          age_public_key: agePublicKey ?? null,
          age_key_file: config.paths.ageKeyFile,
          config_file: config.file.path,
          config_exists: config.file.exists,
          device_file: config.paths.deviceFile,
          service,
          registration,
        };
        if (options.json) return printJson(status);
        console.log(formatTable([
          ["name", status.name],
          ["id", status.id ?? "none yet (run `tcfs device enroll`)"],
          ["age public key", status.age_public_key ?? `none (${status.age_key_file} is missing)`],
          [
            "config",
            `${status.config_file}${status.config_exists ? "" : " (missing: defaults apply)"}`,
          ],
          [
            "service file",
            `${service.path} (${service.installed ? "installed" : "not installed"})`,
          ],
          ["registration", describeRegistration(registration)],
        ]));
      } finally {
        runtime.close();
      }
    });
}

function deviceRevokeCommand() {
  return new Command("revoke")
    .description(
      "mark a device revoked: the fleet ignores its versions and it may no longer push",
    )
    .argument("<device>", "the device's name (or id)")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs device revoke petting-zoo-mini
  tcfs device revoke 3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b --json

Revocation is permanent. When the fleet has a keychain it also starts a new key epoch wrapped to
the remaining devices only: everything written from then on is unreadable to the revoked device
(what it already held stays readable to it). It does not rotate credentials: a device that still
holds the bucket's S3 keys can still write objects. Rotate the S3 and NATS credentials to cut it
off (docs/OPERATIONS.md, "Revoking a device").`,
    )
    .action(async (nameOrId, options) => {
      const runtime = await openCliRuntime();
      try {
        const store = await runtime.store();
        const me = await runtime.device();
        const { fleet } = await rebuildDeviceIndex(store, { attempts: 1 });
        const target = findDevice(fleet.devices, nameOrId);
        if (!target) {
          throw new TcfsError(
            `no device ${JSON.stringify(nameOrId)} is registered in ${store.location}`,
            {
              kind: "device_not_found",
              exitCode: ExitCode.usage,
              hint: "see the names with `tcfs device list`",
            },
          );
        }
        if (target.id === me.id) {
          throw new TcfsError(
            `${JSON.stringify(nameOrId)} is this device; a device does not revoke itself`,
            {
              kind: "invalid_argument",
              exitCode: ExitCode.usage,
              hint: "run `tcfs device revoke` from another enrolled device",
            },
          );
        }
        const already = target.revoked;
        const revoked = already ? target : await revokeDevice(store, target, me);
        const index = already ? undefined : await rebuildDeviceIndex(store);
        // Also when it was revoked already: a revoke cut short before the new epoch finishes it.
        const epoch = await startEpochWithout(
          store,
          await runtime.state(),
          { id: me.id, name: me.name, ageKeyFile: runtime.config.paths.ageKeyFile },
          target.id,
          target.name,
        );
        const keyEpoch = epoch.state === "none"
          ? null
          : { epoch: epoch.keychain.epoch, started: epoch.state === "written" };
        if (options.json) {
          return printJson({
            device: revoked,
            already_revoked: already,
            index_current: index?.current ?? true,
            key_epoch: keyEpoch,
          });
        }
        console.log(
          already
            ? `device "${target.name}" (${target.id}) was already revoked`
            : `revoked device "${target.name}" (${target.id}); the fleet now ignores its versions\n` +
              "  to cut it off completely, rotate the S3 and NATS credentials it holds",
        );
        if (keyEpoch?.started) {
          console.log(
            `started key epoch ${keyEpoch.epoch} without it: what is written from now on is ` +
              "unreadable to it",
          );
        } else if (keyEpoch) {
          console.log(`key epoch ${keyEpoch.epoch} is already without it`);
        }
      } finally {
        runtime.close();
      }
    });
}

function keyAccess(keys: DeviceKeyStatus | undefined, record: DeviceRecord) {
  if (keys?.keychain === "none") return "no_keychain";
  if (!keys?.approved_devices) return "unknown";
  return keys.approved_devices.includes(record.id) ? "approved" : "not_approved";
}

function describeKeyAccess(d: ListedDevice): string {
  switch (d.key_access) {
    case "approved":
      return `epoch ${d.key_epoch}`;
    case "not_approved":
      return d.status === "active" ? "pending" : "-";
    case "unknown":
      return "unknown";
    case "no_keychain":
      return "-";
  }
}

function deviceStatus(record: DeviceRecord): string {
  if (record.revoked) return "revoked";
  return isLiveDevice(record) ? "active" : "replaced";
}

async function installedService(env: Record<string, string | undefined>) {
  let manager: ServiceManager;
  try {
    manager = serviceManagerFor(env);
  } catch {
    return { manager: null, path: "(no service manager support on this system)", installed: false };
  }
  const dirs = xdgDirs(env);
  // A system unit, if someone installed one, is the one that runs.
  for (const system of manager === "systemd" ? [true, false] : [false]) {
    const path = servicePath(manager, system, dirs);
    if (await isServiceInstalled(path)) return { manager, path, installed: true, system };
  }
  return { manager, path: servicePath(manager, false, dirs), installed: false, system: false };
}

type RegistrationState =
  | { state: "not_enrolled" }
  | { state: "unregistered" }
  | { state: "unreachable"; error: string }
  | { state: "active" | "revoked" | "replaced"; record: DeviceRecord };

async function registrationState(
  id: string,
  runtime: CliRuntime,
): Promise<RegistrationState> {
  let record: DeviceRecord | undefined;
  try {
    record = await readDevice(await runtime.store(), id);
  } catch (err) {
    return { state: "unreachable", error: (err as Error).message };
  }
  if (!record) return { state: "unregistered" };
  return { state: deviceStatus(record) as "active" | "revoked" | "replaced", record };
}

function describeRegistration(registration: RegistrationState): string {
  switch (registration.state) {
    case "not_enrolled":
      return "not enrolled (run `tcfs device enroll`)";
    case "unregistered":
      return "not registered in this bucket (run `tcfs device enroll`)";
    case "unreachable":
      return `unknown: the store could not be read (${registration.error})`;
    case "revoked":
      return `REVOKED${
        registration.record.revoked_at ? ` at ${registration.record.revoked_at}` : ""
      }; this device may no longer push`;
    case "replaced":
      return `replaced by device ${registration.record.replaced_by} (enroll --replace to take the name back)`;
    case "active":
      return `active, last seen ${formatTimeAgo(registration.record.last_seen)}`;
  }
}
