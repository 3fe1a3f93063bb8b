/**
 * `tcfs device enroll`: gives this machine its identity in the fleet, registers it in the
 * bucket, writes its config, env file and service definition, and optionally starts the daemon.
 *
 * @module
 */

import { claimInvitation, openInvitation } from "../../core/crypto/device_invites.ts";
import { Command } from "@commander-js/extra-typings";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { tcfsVersion } from "../../core/version.ts";
import { writeConfigFile } from "../../core/config/write_config.ts";
import { StateDb } from "../../core/state/state_db.ts";
import {
  prepareSyncRoot,
  ROOT_MARKER,
  type RootMarkerOutcome,
} from "../../core/sync/root_marker.ts";
import { CONFLICT_MODES, type TcfsConfig } from "../../core/config/config_schema.ts";
import {
  loadDeviceSetup,
  openConfiguredStore,
  resolveConfiguredCredentials,
} from "../../core/runtime/device_setup.ts";
import { readDeviceIdentity, writeDeviceIdentity } from "../../core/device/device_identity.ts";
import { assertDeviceName } from "../../core/device/device_name.ts";
import type { DeviceAgeKey } from "../../core/device/device_age_key.ts";
import { type EnrollmentPlan, planEnrollment } from "../../core/device/device_enrollment.ts";
import { listDevices, markReplaced, registerDevice } from "../../core/device/device_registry.ts";
import type { DeviceRecord } from "../../core/device/device_record.ts";
import { type IndexRebuild, rebuildDeviceIndex } from "../../core/device/device_index.ts";
import { type EnvFileUpdate, readEnvFile, updateEnvFile } from "../../platform/env_file.ts";
import { xdgDirs } from "../../platform/xdg_dirs.ts";
import { tcfsExecutable } from "../../platform/tcfs_executable.ts";
import {
  installServiceFile,
  type ServiceFile,
  serviceFile,
  serviceManagerFor,
  type ServiceStart,
  startService,
} from "../../platform/service_install.ts";
import {
  checkEnrollFlags,
  configUpdates,
  enrolledMounts,
  type EnrollSettingFlags,
  envFileValues,
  flagEnvironment,
  type FlagSetting,
} from "./device_enroll_settings.ts";
import { JSON_FLAG_HELP, printJson } from "../output.ts";
import { readDeviceEnvironment } from "../../platform/device_environment.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import {
  enrollDeviceKeys,
  type EnrollmentKeys,
  recoverDeviceKeys,
  type RecoveryChoice,
} from "../../core/crypto/enrollment_keys.ts";
import { newestKeychainEpoch } from "../../core/crypto/keychain_store.ts";
import type { DeviceAgeIdentity } from "../../core/device/device_age_key.ts";
import { RECOVERY_PASSPHRASE_VAR, recoveryPassphrase } from "../recovery_passphrase.ts";

/** The service part of an enrollment, when a service was written. */
interface ServiceOutcome {
  file: ServiceFile;
  written: "created" | "updated" | "unchanged";
  start?: ServiceStart;
}

/** Everything an enrollment did, for the summary. */
interface Enrollment {
  record: DeviceRecord;
  plan: EnrollmentPlan;
  ageKey: DeviceAgeKey;
  storeLocation: string;
  bucket: string;
  index: IndexRebuild;
  config: TcfsConfig;
  envUpdate: EnvFileUpdate;
  service?: ServiceOutcome;
  /** Variables in the shell that override a flag for later commands run from it. */
  shadowedFlags: FlagSetting[];
  /** The sync root and its marker, when one is configured. */
  syncRoot?: EnrolledRoot;
  /** What the daemon mounts (`[mount] mounts`), as written. */
  mounts: string[];
  /** The fleet's keys as this device now holds them. */
  keys: EnrollmentKeys & { recovered: boolean; invited?: boolean };
}

/** What the keys step will do, decided before anything is written. */
type KeyPlan =
  | { mode: "recover"; identity: DeviceAgeIdentity }
  | { mode: "enroll"; recovery: RecoveryChoice };

/** Builds the command. */
export function deviceEnrollCommand() {
  return new Command("enroll")
    .description(
      "join this machine to the fleet: identity, age key, config, registry entry, service",
    )
    .option("--name <name>", "device name (default: sync.device_name, else the host name)")
    .option(
      "--endpoint <url>",
      "S3 endpoint written to the config, e.g. http://dees-appu-bearts:8333",
    )
    .option("--bucket <name>", "bucket written to the config (the registry lives in it)")
    .option("--namespace <name>", "namespace written to the config")
    .option("--nats-url <url>", "NATS server written to the config, e.g. nats://yoga.local:4222")
    .option("--sync-root <dir>", "folder the daemon keeps in sync")
    .option(
      "--mount <dir>",
      "a folder the daemon mounts the fleet's tree at (`<dir>=<remote>` for part of it); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--conflict-mode <mode>",
      `how concurrent edits are settled: ${CONFLICT_MODES.join(", ")}`,
    )
    .option(
      "--system",
      "write a system unit (/etc/systemd/system, needs root) instead of a user unit",
    )
    .option("--no-service", "write no service definition")
    .option("--start", "enable and start the service after writing it")
    .option("--yes", "don't ask for confirmation on a terminal")
    .option("--replace", "take the name over from another live device (e.g. after a reinstall)")
    .option(
      "--recovery",
      "let this machine in with the fleet's recovery passphrase (or --recovery-key-file)",
    )
    .option(
      "--no-recovery",
      "first device of a fleet: keep no recovery key (losing every device loses the files)",
    )
    .option(
      "--recovery-passphrase-file <file>",
      `the recovery passphrase, from a file (else ${RECOVERY_PASSPHRASE_VAR} or a prompt)`,
    )
    .option("--recovery-key-file <file>", "with --recovery: the printed recovery key's file")
    .option("--no-encrypt", "keep a fleet without keys, and a new namespace plaintext")
    .option(
      "--invite <token>",
      "a token from `tcfs device invite`: the fleet's daemons let this device in",
    )
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs device enroll --name $(hostname)
  tcfs device enroll --endpoint http://dees-appu-bearts:8333 --nats-url nats://yoga.local:4222 --start
  tcfs device enroll --name yoga --replace --yes --json     # a reinstalled machine takes its name back
  tcfs device enroll --recovery                             # every device was lost: the passphrase lets this one in
  tcfs device enroll --name labbox --invite tcfs-invite-…   # an approved daemon lets it in by itself
  tcfs device enroll --sync-root ~/Sync --mount ~/fleet --start   # the daemon also mounts the fleet's tree

Enrolling again is safe: the device keeps its id and its files are refreshed. The age key is
~/.config/sops/age/keys.txt (made with age-keygen's format when missing); put the printed public
key into .sops.yaml. Flags are written to ~/.config/tcfs/config.toml; S3 keys and TCFS_S3_* /
TCFS_NATS_URL set in your shell are carried into ~/.config/tcfs/env (mode 0600) for the service.
Nothing prompts when stdin is not a terminal.

End-to-end encryption: the fleet's first device creates key epoch 1 and encrypts the namespace if
it holds nothing yet (--no-encrypt: neither). Its recovery passphrase comes from
--recovery-passphrase-file, ${RECOVERY_PASSPHRASE_VAR} or a prompt; without one (no terminal) a
recovery key is written to ~/.config/tcfs/recovery-key.txt for you to store offline. Every later
device is pending until an approved one runs \`tcfs device approve <name>\`, or, enrolled with
--invite, until an approved device's daemon sees its claim (within its poll interval).`,
    )
    .action(async (options) => {
      const enrollment = await enroll(options);
      if (options.json) printJson(enrollmentJson(enrollment));
      else printEnrollment(enrollment);
    });
}

type EnrollOptions = EnrollSettingFlags & {
  mount?: string[];
  system?: true;
  service: boolean;
  start?: true;
  yes?: true;
  replace?: true;
  recovery?: boolean;
  recoveryPassphraseFile?: string;
  recoveryKeyFile?: string;
  encrypt: boolean;
  invite?: string;
  json?: true;
};

async function enroll(options: EnrollOptions): Promise<Enrollment> {
  const realEnv = Deno.env.toObject();
  if (options.name !== undefined) assertDeviceName(options.name);
  const flags = checkEnrollFlags(options, xdgDirs(realEnv).home);
  checkServiceFlags(options);
  checkRecoveryFlags(options);
  const setup = await loadDeviceSetup(
    await readDeviceEnvironment({ ...realEnv, ...flagEnvironment(flags) }),
  );
  const { config } = setup;
  const name = options.name ?? checkedDefaultName(config.sync.deviceName);
  const mounts = options.mount && enrolledMounts(
    config.mount.mounts,
    options.mount,
    config.storage.bucket,
    config.sync.namespace,
    xdgDirs(realEnv).home,
  );
  const service = options.service
    ? daemonServiceFile(config, options.system ?? false, realEnv)
    : undefined;

  // age-encryption loads only for enrollment.
  const { loadOrCreateAgeKey } = await import("../../core/device/device_age_key.ts");
  const ageKey = await loadOrCreateAgeKey(config.paths.ageKeyFile);
  const store = await openConfiguredStore(
    config,
    await resolveConfiguredCredentials(setup, Deno.stdin.isTerminal()),
  );
  try {
    // A bad token stops the enrollment before anything is registered.
    if (options.invite !== undefined) await openInvitation(store, options.invite);
    const known = await readDeviceIdentity(config.paths.deviceFile);
    const fleet = await listDevices(store);
    const plan = planEnrollment(fleet.devices, {
      name,
      agePublicKey: ageKey.recipient,
      knownId: known?.id,
      replace: options.replace ?? false,
    });
    confirmEnrollment(options, name, plan, store.location, config.storage.bucket);
    const keyPlan = await planKeys(options, store, config);

    await writeDeviceIdentity(config.paths.deviceFile, {
      id: plan.id,
      name,
      created_at: known?.created_at ?? new Date().toISOString(),
    });
    const record = await registerDevice(store, {
      id: plan.id,
      name,
      agePublicKey: ageKey.recipient,
      platform: `${Deno.build.os}-${Deno.build.arch}`,
      tcfsVersion: tcfsVersion(),
    });
    if (plan.displaced) await markReplaced(store, plan.displaced, plan.id);
    const index = await rebuildDeviceIndex(store);
    const keys = await enrollKeys(store, config, keyPlan, {
      id: plan.id,
      name,
      ageKeyFile: config.paths.ageKeyFile,
      recipient: ageKey.recipient,
      encrypt: options.encrypt,
    });
    if (options.invite !== undefined && keys.keychain === "pending") {
      await claimInvitation(store, options.invite, plan.id, ageKey.recipient);
      keys.invited = true;
    }

    const updates = configUpdates(name, flags);
    if (mounts) updates.mount = { mounts };
    await writeConfigFile(config.file.path, updates);
    const fileEnv = await readEnvFile(config.paths.envFile);
    const envUpdate = await updateEnvFile(
      config.paths.envFile,
      envFileValues(realEnv, fileEnv, flags),
    );
    const syncRoot = config.sync.syncRoot
      ? await markSyncRoot(config.sync.syncRoot, config.paths.stateDb)
      : undefined;
    let serviceOutcome: ServiceOutcome | undefined;
    if (service) {
      const written = await installServiceFile(service);
      serviceOutcome = { file: service, written };
      if (options.start) {
        serviceOutcome.start = await startService(service, { restart: written === "updated" });
      }
    }
    return {
      record,
      plan,
      ageKey,
      storeLocation: store.location,
      bucket: config.storage.bucket,
      index,
      config,
      envUpdate,
      service: serviceOutcome,
      shadowedFlags: flags.filter((f) => realEnv[f.envVar] && realEnv[f.envVar] !== f.value),
      syncRoot,
      mounts: mounts ?? config.mount.mounts,
      keys,
    };
  } finally {
    store.close();
  }
}

/**
 * Gathers what the keys step needs before anything is written: the recovery identity for
 * `--recovery` (a wrong passphrase stops the enrollment here), and the fleet's recovery choice
 * when this device will be its first.
 */
async function planKeys(
  options: EnrollOptions,
  store: ObjectStore,
  config: TcfsConfig,
): Promise<KeyPlan> {
  const passphrase = (choosing: boolean) =>
    recoveryPassphrase({
      file: options.recoveryPassphraseFile,
      env: Deno.env.toObject(),
      choosing,
    });
  if (options.recovery) {
    if (options.recoveryKeyFile !== undefined) {
      const { readFirstIdentity } = await import("../../core/device/device_age_key.ts");
      const identity = await readFirstIdentity(options.recoveryKeyFile);
      if (!identity) {
        throw new TcfsError(`the recovery key file ${options.recoveryKeyFile} does not exist`, {
          kind: "recovery_failed",
          exitCode: ExitCode.usage,
          hint: "give --recovery-key-file the file with the key printed at the first enrollment",
        });
      }
      return { mode: "recover", identity };
    }
    const given = await passphrase(false);
    if (given === undefined) {
      throw new TcfsError("--recovery needs the fleet's recovery passphrase", {
        kind: "recovery_failed",
        exitCode: ExitCode.usage,
        hint: `set ${RECOVERY_PASSPHRASE_VAR}, pass --recovery-passphrase-file or ` +
          "--recovery-key-file, or run it on a terminal to be asked",
      });
    }
    const { openRecoveryIdentity } = await import("../../core/crypto/recovery_identity.ts");
    return { mode: "recover", identity: await openRecoveryIdentity(store, given) };
  }
  const first = options.encrypt && await newestKeychainEpoch(store) === undefined;
  if (!first || options.recovery === false) return { mode: "enroll", recovery: { kind: "none" } };
  const chosen = await passphrase(true);
  return {
    mode: "enroll",
    recovery: chosen !== undefined
      ? { kind: "passphrase", passphrase: chosen }
      : { kind: "key_file", path: config.paths.recoveryKeyFile },
  };
}

/** The keys step of an enrollment, once the device is registered. */
async function enrollKeys(
  store: ObjectStore,
  config: TcfsConfig,
  plan: KeyPlan,
  me: { id: string; name: string; ageKeyFile: string; recipient: string; encrypt: boolean },
): Promise<Enrollment["keys"]> {
  const state = await StateDb.open(config.paths.stateDb);
  try {
    const holder = { id: me.id, name: me.name, ageKeyFile: me.ageKeyFile };
    if (plan.mode === "recover") {
      await recoverDeviceKeys(store, state, holder, me.recipient, plan.identity);
    }
    const keys = await enrollDeviceKeys(store, state, {
      holder,
      recipient: me.recipient,
      namespace: config.sync.namespace,
      encrypt: me.encrypt,
      recovery: plan.mode === "enroll" ? plan.recovery : { kind: "none" },
    });
    return { ...keys, recovered: plan.mode === "recover" };
  } finally {
    state.close();
  }
}

/** The sync root as enrollment left it: its marker, or why it has none. */
interface EnrolledRoot {
  path: string;
  marker?: RootMarkerOutcome;
  problem?: TcfsError;
}

/**
 * Creates the sync root and its marker where that is safe (see root_marker.ts); an unmounted
 * drive is reported, not papered over, and does not stop the enrollment.
 */
async function markSyncRoot(root: string, stateDbPath: string): Promise<EnrolledRoot> {
  const state = await StateDb.open(stateDbPath);
  try {
    return { path: root, marker: await prepareSyncRoot(root, () => state.syncedPathsFrom(root)) };
  } catch (err) {
    if (!(err instanceof TcfsError)) throw err;
    return { path: root, problem: err };
  } finally {
    state.close();
  }
}

function checkRecoveryFlags(options: EnrollOptions): void {
  const usage = (message: string) =>
    new TcfsError(message, {
      kind: "invalid_flag",
      exitCode: ExitCode.usage,
      hint: "see `tcfs device enroll --help`",
    });
  if (options.recoveryKeyFile !== undefined && !options.recovery) {
    throw usage("--recovery-key-file is for --recovery");
  }
  if (options.recoveryKeyFile !== undefined && options.recoveryPassphraseFile !== undefined) {
    throw usage("--recovery-key-file and --recovery-passphrase-file exclude each other");
  }
  if (options.recovery === false && options.recoveryPassphraseFile !== undefined) {
    throw usage("--no-recovery and --recovery-passphrase-file contradict each other");
  }
}

function checkServiceFlags(options: EnrollOptions): void {
  const usage = (message: string, hint: string) =>
    new TcfsError(message, { kind: "invalid_flag", exitCode: ExitCode.usage, hint });
  if (options.start && !options.service) {
    throw usage("--start and --no-service contradict each other", "drop one of them");
  }
  if (options.system && !options.service) {
    throw usage("--system and --no-service contradict each other", "drop one of them");
  }
  if (options.system && Deno.uid() !== 0) {
    throw usage(
      "--system writes /etc/systemd/system/tcfsd.service and needs root",
      "run it with sudo, or leave out --system for a user unit",
    );
  }
}

/** The service definition that runs this tcfs's daemon with this config. */
function daemonServiceFile(
  config: TcfsConfig,
  system: boolean,
  realEnv: Record<string, string>,
): ServiceFile {
  const { home, configHome } = xdgDirs(realEnv);
  return serviceFile(
    {
      program: [tcfsExecutable(realEnv), "daemon"],
      envFile: config.paths.envFile,
      // A system unit runs without the user's HOME, where tcfs keeps its identity and keys.
      environment: { TCFS_CONFIG: config.file.path, ...(system ? { HOME: home } : {}) },
      system,
    },
    serviceManagerFor(realEnv),
    { home, configHome },
  );
}

/** A name from the config or the host name gets a hint about --name when it is invalid. */
function checkedDefaultName(name: string): string {
  try {
    return assertDeviceName(name);
  } catch (err) {
    const error = err as TcfsError;
    throw new TcfsError(`${error.message} (from sync.device_name or the host name)`, {
      kind: error.kind,
      exitCode: error.exitCode,
      hint: `pass --name, e.g. --name yoga; ${error.hint}`,
    });
  }
}

function confirmEnrollment(
  options: EnrollOptions,
  name: string,
  plan: EnrollmentPlan,
  location: string,
  bucket: string,
): void {
  if (options.yes || options.json || !Deno.stdin.isTerminal()) return;
  const who = plan.origin === "new" ? "as a new device" : `as device ${plan.id}`;
  const takeover = plan.displaced ? `, taking the name from device ${plan.displaced.id}` : "";
  if (
    !confirm(
      `Enroll this machine as "${name}" ${who} in ${location} (bucket ${bucket})${takeover}?`,
    )
  ) {
    throw new TcfsError("enrollment cancelled; nothing was written", {
      kind: "cancelled",
      hint: "pass --yes to enroll without the question",
    });
  }
}

function enrollmentJson(e: Enrollment) {
  return {
    id: e.record.id,
    name: e.record.name,
    id_origin: e.plan.origin,
    replaced_device: e.plan.displaced?.id ?? null,
    age_public_key: e.ageKey.recipient,
    age_key_file: e.ageKey.path,
    age_key_created: e.ageKey.created,
    store: e.storeLocation,
    bucket: e.bucket,
    registration: e.record,
    index: { current: e.index.current, attempts: e.index.attempts },
    config_file: e.config.file.path,
    sync_root: e.syncRoot
      ? {
        path: e.syncRoot.path,
        marker: e.syncRoot.marker ?? null,
        problem: e.syncRoot.problem
          ? { message: e.syncRoot.problem.message, hint: e.syncRoot.problem.hint }
          : null,
      }
      : null,
    mounts: e.mounts,
    device_file: e.config.paths.deviceFile,
    keys: {
      ...e.keys,
      approve_command: e.keys.keychain === "pending"
        ? `tcfs device approve ${e.record.name}`
        : null,
      invited: e.keys.invited ?? false,
      recovery_notice: e.keys.recovery_key_file
        ? recoveryKeyNotice(e.keys.recovery_key_file)
        : null,
    },
    env_file: {
      path: e.config.paths.envFile,
      added: e.envUpdate.added,
      changed: e.envUpdate.changed,
    },
    service: e.service
      ? {
        manager: e.service.file.manager,
        system: e.service.file.system,
        path: e.service.file.path,
        written: e.service.written,
        started: e.service.start?.started ?? false,
        not_started_reason: e.service.start && !e.service.start.started
          ? e.service.start.reason
          : null,
        commands: e.service.start?.commands ?? [],
      }
      : null,
  };
}

function printEnrollment(e: Enrollment): void {
  const origin = {
    device_file: "kept from device.json",
    age_key: "recovered from the registry by this machine's age key",
    new: "new",
  }[e.plan.origin];
  const lines = [
    `Enrolled "${e.record.name}" in ${e.storeLocation} (bucket ${e.bucket})`,
    `  device id       ${e.record.id} (${origin})`,
    `  age public key  ${e.ageKey.recipient}`,
    `  age key file    ${e.ageKey.path}${e.ageKey.created ? " (new, mode 0600)" : " (existing)"}`,
    `  config          ${e.config.file.path}`,
    `  env file        ${e.config.paths.envFile}${describeEnvUpdate(e.envUpdate)}`,
  ];
  if (e.syncRoot?.marker) {
    lines.push(`  sync root       ${e.syncRoot.path} (marker ${ROOT_MARKER} ${e.syncRoot.marker})`);
  }
  for (const mount of e.mounts) lines.push(`  mount           ${mount} (by the daemon)`);
  if (e.syncRoot?.problem) {
    lines.push(
      `  warning: ${e.syncRoot.problem.message}`,
      `           ${e.syncRoot.problem.hint}`,
    );
  }
  if (e.plan.displaced) {
    lines.push(`  replaced        device ${e.plan.displaced.id}, which held the name until now`);
  }
  if (e.service) {
    lines.push(`  service         ${e.service.file.path} (${e.service.written})`);
  }
  if (!e.index.current) {
    lines.push(
      "  note: the fleet index tcfs-meta/devices.json is behind (others were writing it);",
      "        the registry is up to date and the next enroll or `tcfs device list` fixes it",
    );
  }
  lines.push(...keyLines(e));
  for (const f of e.shadowedFlags) {
    lines.push(`  note: ${f.envVar} in your shell overrides ${f.flag} for commands run from it`);
  }
  lines.push("", "Next steps:");
  lines.push(
    `  - add this host's public key to .sops.yaml for its secrets file: ${e.ageKey.recipient}`,
  );
  if (e.keys.keychain === "pending") {
    lines.push(
      `  - let this device read the fleet's files: on an approved device run ` +
        `\`tcfs device approve ${e.record.name}\``,
    );
  }
  lines.push(...serviceSteps(e.service));
  console.log(lines.join("\n"));
}

function keyLines(e: Enrollment): string[] {
  const { keys } = e;
  const lines: string[] = [];
  switch (keys.keychain) {
    case "created":
      lines.push(`  keys            created key epoch 1: this is the fleet's first device`);
      break;
    case "approved":
      lines.push(
        `  keys            approved for key epoch ${keys.epoch}` +
          (keys.recovered ? " (let in with the recovery key)" : ""),
      );
      break;
    case "pending":
      lines.push(
        `  keys            PENDING: key epoch ${keys.epoch} is not wrapped to this device yet;`,
        keys.invited
          ? "                  invitation claimed: an approved daemon lets it in within its poll interval"
          : `                  on an approved device run: tcfs device approve ${e.record.name}`,
      );
      break;
    case "none":
      lines.push("  keys            none: the fleet has no keychain (enrolled with --no-encrypt)");
  }
  const ns = keys.namespace;
  lines.push(
    `  namespace       ${ns.name} (${
      ns.sealed_now
        ? "end-to-end encrypted from now on"
        : ns.sealed
        ? "end-to-end encrypted"
        : "plaintext"
    })`,
  );
  if (keys.recovery === "passphrase") {
    lines.push("  recovery        identity stored, sealed with your passphrase (age scrypt)");
  } else if (keys.recovery === "none") {
    lines.push(
      "  recovery        none (--no-recovery): if every device is lost, so are the files",
    );
  } else if (keys.recovery_key_file) {
    lines.push(`  RECOVERY KEY    ${recoveryKeyNotice(keys.recovery_key_file)}`);
  }
  return lines;
}

function recoveryKeyNotice(path: string): string {
  return `written to ${path} (mode 0600): store it offline (print it, or keep it in a ` +
    "password manager), then delete the file. It is the only way back to the files if every " +
    "device is lost: `tcfs device enroll --recovery --recovery-key-file FILE`";
}

function describeEnvUpdate(update: EnvFileUpdate): string {
  const parts = [
    update.added.length > 0 ? `added ${update.added.join(", ")}` : "",
    update.changed.length > 0 ? `replaced ${update.changed.join(", ")}` : "",
  ].filter((part) => part !== "");
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

function serviceSteps(service: ServiceOutcome | undefined): string[] {
  if (!service) return ["  - start the daemon your own way: tcfs daemon"];
  const { file, start } = service;
  if (file.manager === "launchd") {
    if (start?.started) {
      return ["  - the agent is loaded; logs: /tmp/tcfsd.stdout.log, /tmp/tcfsd.stderr.log"];
    }
    return [
      ...(start ? [`  - the agent was not started: ${start.reason}`] : []),
      `  - load it: launchctl bootstrap gui/$(id -u) ${file.path}`,
    ];
  }
  const systemctl = file.system ? "systemctl" : "systemctl --user";
  const journal = file.system ? "journalctl -u tcfsd" : "journalctl --user -u tcfsd";
  const linger = file.system
    ? []
    : ["  - on a headless host, keep it running without a login: loginctl enable-linger $USER"];
  if (start?.started) return [`  - the daemon runs; logs: ${journal} -f`, ...linger];
  return [
    ...(start
      ? [
        `  - the service was not started: ${start.reason}; the unit is installed and can be started once a service manager runs`,
      ]
      : []),
    `  - start it: ${systemctl} daemon-reload && ${systemctl} enable --now tcfsd`,
    ...linger,
  ];
}
