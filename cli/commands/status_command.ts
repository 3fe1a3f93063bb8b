/**
 * `tcfs status`: asks the daemon how it is doing; without one, says so and shows what the
 * config and this device say.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { ConflictMode, TcfsConfig } from "../../core/config/config_schema.ts";
import { redactUrlCredentials } from "../../core/config/config_schema.ts";
import { readDeviceIdentity } from "../../core/device/device_identity.ts";
import { ExitCode } from "../../core/errors.ts";
import {
  configuredEndpoint,
  configuredNatsUrl,
  resolveConfiguredCredentials,
} from "../../core/runtime/device_setup.ts";
import { tcfsVersion } from "../../core/version.ts";
import type { EncryptionStatus, GcStatus, StatusResponse } from "../../daemon/api/api_types.ts";
import { openCliRuntime } from "../cli_runtime.ts";
import { runningDaemon } from "../daemon_connection.ts";
import { formatBytes, formatTable, JSON_FLAG_HELP, printJson, setExitCode } from "../output.ts";

/** `tcfs status --json` while the daemon runs: its status. */
export type RunningStatusJson = { daemon: "running" } & StatusResponse;

/** `tcfs status --json` without a daemon: what is known locally. */
export interface LocalStatusJson {
  daemon: "not_running";
  socket: string;
  version: string;
  device?: { id: string; name: string };
  config_file: string;
  storage: { endpoint: string; bucket: string };
  credentials: { source: string };
  nats: { url?: string };
  sync: {
    namespace: string;
    conflict_mode: ConflictMode;
    sync_root?: string;
    poll_interval_secs: number;
  };
}

/** Builds the command. */
export function statusCommand() {
  return new Command("status")
    .description("show the daemon's state: storage, NATS, credentials, conflicts, sync roots")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Without a running daemon it says so, shows the local configuration, and exits with
code 4 (daemon not running).

Examples:
  tcfs status
  tcfs status --json | jq .nats`,
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        using daemon = await runningDaemon(config);
        if (daemon) {
          const status = await daemon.status();
          if (options.json) printJson({ daemon: "running", ...status } satisfies RunningStatusJson);
          else console.log(describeRunning(status));
          return;
        }
        const local = await localStatus(config, runtime.env);
        if (options.json) printJson(local);
        else console.log(describeLocal(local));
        setExitCode(ExitCode.daemonNotRunning);
      } finally {
        runtime.close();
      }
    });
}

async function localStatus(
  config: TcfsConfig,
  env: Record<string, string | undefined>,
): Promise<LocalStatusJson> {
  const device = await readDeviceIdentity(config.paths.deviceFile).catch(() => undefined);
  // Never prompts: status must not stop for a KeePassXC password.
  const credentials = await resolveConfiguredCredentials({ env, config }, false)
    .catch(() => undefined);
  const natsUrl = credentials ? configuredNatsUrl(config, credentials) : config.sync.natsUrl;
  return {
    daemon: "not_running",
    socket: config.daemon.socket,
    version: tcfsVersion(),
    ...(device ? { device: { id: device.id, name: device.name } } : {}),
    config_file: config.file.path,
    storage: {
      endpoint: (credentials ? configuredEndpoint(config, credentials) : config.storage.endpoint) ||
        config.paths.storeDir,
      bucket: config.storage.bucket,
    },
    credentials: { source: credentials?.source ?? "unknown (reading them failed)" },
    nats: natsUrl ? { url: redactUrlCredentials(natsUrl) } : {},
    sync: {
      namespace: config.sync.namespace,
      conflict_mode: config.sync.conflictMode,
      ...(config.sync.syncRoot ? { sync_root: config.sync.syncRoot } : {}),
      poll_interval_secs: config.sync.pollIntervalSecs,
    },
  };
}

function describeStream(stream: NonNullable<StatusResponse["nats"]["stream"]>): string {
  return `${stream.replicas} replica${stream.replicas === 1 ? "" : "s"}` +
    (stream.leader ? `, leader ${stream.leader}` : "");
}

function describeRunning(s: StatusResponse): string {
  const nats = s.nats.state === "disabled"
    ? "disabled (no NATS URL: polling the store)"
    : `${s.nats.state}${s.nats.server ? ` to ${s.nats.server}` : ""}` +
      (s.nats.url && s.nats.url !== s.nats.server ? ` (of ${s.nats.url})` : "") +
      (s.nats.stream ? `, stream: ${describeStream(s.nats.stream)}` : "") +
      (s.nats.reconnects ? `, ${s.nats.reconnects} reconnects` : "") +
      `, ${s.nats.outbox_depth} events in the outbox` +
      (s.nats.last_error ? ` (last error: ${s.nats.last_error})` : "");
  const storage = `${s.storage.endpoint} bucket ${s.storage.bucket}: ` +
    (s.storage.reachable ? "reachable" : `NOT reachable (${s.storage.error ?? "no answer"})`);
  const roots = s.sync.roots.length === 0
    ? [["sync root", "none configured ([sync] sync_root)"]]
    : s.sync.roots.map((root) => [
      "sync root",
      `${root.path}: ${root.watcher}, last sync ${
        root.last_sync_at ? `${ago(root.last_sync_at)} ago` : "not yet"
      }` + (root.pending_changes ? `, ${root.pending_changes} changes pending` : "") +
      (root.last_error ? ` (last error: ${root.last_error})` : ""),
    ]);
  return [
    `tcfs daemon ${s.version}: running for ${duration(s.uptime_secs)} (pid ${s.pid})`,
    formatTable([
      ["device", `${s.device.name} (${s.device.id})`],
      ["storage", storage],
      ["nats", nats],
      ["credentials", `${s.credentials.source} (loaded ${s.credentials.loaded_at})`],
      ["conflicts", `mode ${s.sync.conflict_mode}, ${s.sync.pending_conflicts} pending`],
      ...roots,
      ["namespace", s.sync.namespace],
      ["encryption", describeEncryption(s.encryption, s.device.name)],
      ["gc", describeGc(s.gc)],
      ...(s.mounts ?? []).map((m) => [
        "mount",
        `${m.remote} at ${m.mountpoint}${m.read_only ? " (read-only)" : ""}: ${m.files} files, ` +
        `cache ${formatBytes(m.cache_bytes)} of ${formatBytes(m.cache_max_bytes)}` +
        (m.pinned_bytes ? `, ${formatBytes(m.pinned_bytes)} pinned` : "") +
        (m.hydrating ? `, ${m.hydrating} chunks being fetched` : ""),
      ]),
      ["socket", s.socket],
      ["metrics", s.metrics_addr ? `http://${s.metrics_addr}/metrics` : "off"],
    ]),
  ].join("\n");
}

function describeEncryption(e: EncryptionStatus, device: string): string {
  const epoch = e.key_epoch === undefined ? "" : ` (key epoch ${e.key_epoch})`;
  switch (e.state) {
    case "off":
      return "off: the namespace is plaintext";
    case "on":
      return `on${epoch}`;
    case "not_approved":
      return `NOT APPROVED${epoch}: nothing syncs until \`tcfs device approve ${device}\` ` +
        `runs on an approved device (${e.error?.split("\n")[0]})`;
    case "unknown":
      return `unknown${e.error ? ` (${e.error.split("\n")[0]})` : ": not read yet"}`;
  }
}

function describeGc(gc: GcStatus): string {
  const schedule = gc.interval_secs === 0
    ? "not scheduled ([history] gc_interval_secs = 0)"
    : `every ${duration(gc.interval_secs)}` +
      (gc.next_run_at
        ? `, next in ${
          duration(Math.max(0, Math.round((Date.parse(gc.next_run_at) - Date.now()) / 1000)))
        }`
        : "");
  const run = gc.last_run;
  if (!run) return `${schedule}; no run since the daemon started`;
  const outcome = run.freed_bytes !== undefined
    ? `${run.result}, freed ${formatBytes(run.freed_bytes)}`
    : `${run.result} (${run.error})`;
  return `${schedule}; last run ${ago(run.at)} ago: ${outcome}`;
}

function describeLocal(s: LocalStatusJson): string {
  return [
    `tcfs daemon: not running (nothing answers on ${s.socket})`,
    "  start it: tcfs daemon (or systemctl --user start tcfsd)",
    "",
    "local configuration:",
    formatTable([
      ["device", s.device ? `${s.device.name} (${s.device.id})` : "not enrolled yet"],
      ["storage", `${s.storage.endpoint} bucket ${s.storage.bucket}`],
      ["credentials", s.credentials.source],
      ["nats", s.nats.url ?? "not configured"],
      ["conflicts", `mode ${s.sync.conflict_mode}`],
      ["sync root", s.sync.sync_root ?? "none configured ([sync] sync_root)"],
      ["config", s.config_file],
    ]),
  ].join("\n");
}

function ago(iso: string): string {
  return duration(Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)));
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}
