/**
 * What the daemon answers on each control API route, in terms of its running parts.
 *
 * @module
 */

import { withPublishedProgress } from "./transfer_progress.ts";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { ExitCode, TcfsError } from "../core/errors.ts";
import type { TcfsConfig } from "../core/config/config_schema.ts";
import { redactUrlCredentials } from "../core/config/config_schema.ts";
import type { ResolvedCredentials } from "../core/credentials/credential_chain.ts";
import type { DeviceIdentity } from "../core/device/device_identity.ts";
import { parseRemoteSpec, remoteSpecOrRoot } from "../core/remote/remote_spec.ts";
import {
  defaultLocalTarget,
  defaultRemoteRel,
  placeInSyncRoot,
} from "../core/sync/root_mapping.ts";
import { syncStatus } from "../core/sync/sync_status.ts";
import { pushSettings } from "../core/sync/push_settings.ts";
import {
  headsLookup,
  remoteDisplayPath,
  type SyncContext,
  trackedNamespace,
} from "../core/sync/sync_context.ts";
import { pathLog, type RestoredItem } from "../core/history/history_report.ts";
import { restoreInPlace } from "../core/history/restore_in_place.ts";
import { parsePointInTime } from "../core/history/point_in_time.ts";
import { versionId } from "../core/history/path_history.ts";
import { journalCursors } from "../core/journal/folded_versions.ts";
import { listConflicts } from "../core/conflicts/conflict_queue.ts";
import { resolveConflict } from "../core/conflicts/conflict_resolver.ts";
import { KEPT_BY_MOUNT, resolveKeptCopy } from "../core/conflicts/kept_copy_resolution.ts";
import { unsafePathReason } from "../core/paths/remote_path.ts";
import { tcfsVersion } from "../core/version.ts";
import type { EventBus } from "./nats/event_bus.ts";
import type { ControlHandlers } from "./api/control_server.ts";
import type {
  ConflictEntry,
  EncryptionStatus,
  ReloadResponse,
  StatusResponse,
} from "./api/api_types.ts";
import type { ActivityFeed } from "./activity_feed.ts";
import type { StorageProbe } from "./storage_probe.ts";
import type { SyncLoop } from "./sync/sync_loop.ts";
import type { ScheduledGc } from "./scheduled_gc.ts";
import type { DaemonMounts } from "./daemon_mounts.ts";
import {
  reportedPulls,
  reportedPushes,
  type TransferReporting,
} from "./sync/reported_transfers.ts";

/** The running daemon, as the API sees it. */
export interface DaemonHost {
  startedAt: Date;
  config(): TcfsConfig;
  credentials(): ResolvedCredentials;
  device(): DeviceIdentity;
  /** The NATS URL in effect, if any. */
  natsUrl(): string | undefined;
  /** The bound metrics address, when metrics are served. */
  metricsAddr(): string | undefined;
  bus: EventBus;
  probe: StorageProbe;
  loop(): SyncLoop | undefined;
  reporting: TransferReporting;
  feed: ActivityFeed;
  gc: ScheduledGc;
  /** The mounts of `[mount] mounts`. */
  mounts: DaemonMounts;
  /** The configured namespace's encryption, as this device holds it. */
  encryption(): EncryptionStatus;
  /** A sync context on the current store, for `namespace` (the configured one by default). */
  context(namespace?: string): SyncContext;
  /** Runs `operation` between the sync loop's steps (at once when there is no loop). */
  exclusive<T>(operation: (ctx: SyncContext) => Promise<T>): Promise<T>;
  reload(): Promise<ReloadResponse>;
}

/**
 * The route handlers for `host`.
 *
 * @example
 * ```ts
 * await serveControlApi({ path: config.daemon.socket, handlers: createDaemonApi(host), log });
 * ```
 */
export function createDaemonApi(host: DaemonHost): ControlHandlers {
  return {
    "GET /v1/identity": () => {
      const device = host.device();
      const ctx = host.context();
      return Promise.resolve({
        pid: Deno.pid,
        device: { id: device.id, name: device.name },
        store: { location: ctx.store.location, bucket: ctx.bucket },
        namespace: ctx.namespace,
      });
    },
    "GET /v1/status": () => status(host),
    "GET /v1/mounts": () => Promise.resolve(host.mounts.status()),
    "POST /v1/push": async ({ path, remote, transfer, dry_run, allow_mass_delete }) => {
      const config = host.config();
      const localPath = absolutePath(path, "path") ?? syncRoot(config, "push");
      const spec = remote ? parseRemoteSpec(remote, config.storage.bucket) : {
        namespace: config.sync.namespace,
        rel: defaultRemoteRel(localPath, config.sync.syncRoot),
      };
      return await withPublishedProgress(host.feed, transfer, "push", (onProgress) => {
        const request = {
          localPath,
          remoteRel: spec.rel,
          excludes: config.sync.excludePatterns,
          onProgress,
          followLink: true,
          ...pushSettings(config.sync, { dryRun: dry_run, allowMassDelete: allow_mass_delete }),
        };
        return host.exclusive((ctx) =>
          reportedPushes(host.reporting, { ...ctx, namespace: spec.namespace }, [request], {
            operation: "push",
          })
        );
      });
    },
    "POST /v1/pull": async ({ remote, local, transfer, dry_run }) => {
      const config = host.config();
      const spec = remoteSpecOrRoot(remote, config.storage.bucket, config.sync.namespace);
      const localTarget = absolutePath(local, "local") ??
        defaultLocalTarget(spec.rel, syncRoot(config, "pull"), "/");
      return await withPublishedProgress(
        host.feed,
        transfer,
        "pull",
        (onProgress) =>
          host.exclusive((ctx) =>
            reportedPulls(host.reporting, { ...ctx, namespace: spec.namespace }, [{
              remoteRel: spec.rel,
              localTarget,
              syncRoot: config.sync.syncRoot,
              dryRun: dry_run,
              onProgress,
            }], { operation: "pull" })
          ),
      );
    },
    "GET /v1/sync-status": async ({ path }) => {
      const config = host.config();
      const localPath = absolutePath(path, "path") ?? syncRoot(config, "sync-status");
      return await syncStatus(host.context(), {
        localPath,
        remoteRel: defaultRemoteRel(localPath, config.sync.syncRoot),
        excludes: config.sync.excludePatterns,
      });
    },
    "GET /v1/conflicts": async () => ({
      conflict_mode: host.config().sync.conflictMode,
      conflicts: await pendingConflicts(host),
    }),
    "POST /v1/conflicts/resolve": async ({ path, resolution, local }) => {
      const queue = listConflicts(host.context().state, host.context().namespace);
      const kept = queue.find((c) =>
        c.detected_by === KEPT_BY_MOUNT && (c.path === path || c.local_path === path)
      );
      const rel = kept?.path ?? conflictRel(host.config(), path);
      const queued = queue.find((c) => c.path === rel);
      const localPath = absolutePath(local, "local") ?? queued?.local_path ??
        join(syncRoot(host.config(), "resolve"), rel);
      const outcome = await host.exclusive((ctx) =>
        kept
          ? resolveKeptCopy(ctx, rel, resolution)
          : resolveConflict(ctx, { rel, localPath }, resolution)
      );
      const { namespace } = host.context();
      host.reporting.conflicts.resolved(namespace, rel);
      host.reporting.announce({
        type: "conflict_resolved",
        namespace,
        path: rel,
        resolution,
        version_key: outcome.version_key,
      });
      for (const copy of outcome.copies) {
        host.reporting.announce({ type: "file_synced", namespace, path: copy });
      }
      for (const copy of outcome.copies_deleted) {
        host.reporting.announce({ type: "file_deleted", namespace, path: copy });
      }
      return outcome;
    },
    "GET /v1/log": ({ remote }) => {
      const spec = parseRemoteSpec(remote, host.config().storage.bucket);
      return pathLog({ ...host.context(), namespace: spec.namespace }, spec.rel);
    },
    "POST /v1/restore": ({ remote, version, at, to, local, dry_run }) => {
      const config = host.config();
      const spec = parseRemoteSpec(remote, config.storage.bucket);
      const request = {
        rel: spec.rel,
        version,
        at: at === undefined ? undefined : parsePointInTime(at, `"at"`),
        to: absolutePath(to, "to"),
        dryRun: dry_run,
      };
      const pullTo = absolutePath(local, "local") ??
        placeInSyncRoot(spec.rel, spec.namespace, config.sync);
      return host.exclusive(async (loopCtx) => {
        const ctx = { ...loopCtx, namespace: spec.namespace };
        const report = await restoreInPlace(ctx, request, {
          local: pullTo,
          syncRoot: config.sync.syncRoot,
          pull: (pullRequest) =>
            reportedPulls(host.reporting, ctx, [pullRequest], { operation: "pull" }),
        });
        await announceRestored(host, ctx, report.restored);
        return report;
      });
    },
    "POST /v1/gc": ({ dry_run, min_age_secs }) =>
      host.gc.run({
        dryRun: dry_run,
        minAgeMs: min_age_secs === undefined ? undefined : min_age_secs * 1000,
      }),
    "GET /v1/events": () => Promise.resolve(host.feed.subscribe()),
    "POST /v1/reload": () => host.reload(),
  };
}

async function status(host: DaemonHost): Promise<StatusResponse> {
  const config = host.config();
  const credentials = host.credentials();
  const device = host.device();
  const ctx = host.context();
  const probed = await host.probe.probe();
  const bus = host.bus.status();
  const natsUrl = host.natsUrl();
  const loop = host.loop();
  const metricsAddr = host.metricsAddr();
  return {
    version: tcfsVersion(),
    pid: Deno.pid,
    started_at: host.startedAt.toISOString(),
    uptime_secs: Math.round((Date.now() - host.startedAt.getTime()) / 1000),
    device: { id: device.id, name: device.name },
    storage: { endpoint: ctx.store.location, bucket: config.storage.bucket, ...probed },
    nats: {
      state: bus.state,
      ...(natsUrl ? { url: redactUrlCredentials(natsUrl) } : {}),
      ...(bus.connectedServer ? { server: `nats://${bus.connectedServer}` } : {}),
      ...(bus.stream ? { stream: bus.stream } : {}),
      reconnects: bus.reconnects,
      stream_leader_changes: bus.streamLeaderChanges,
      outbox_depth: bus.outboxDepth,
      ...(bus.lastError ? { last_error: bus.lastError } : {}),
      ...(bus.lastPublishedAt ? { last_published_at: bus.lastPublishedAt } : {}),
    },
    credentials: {
      source: credentials.source,
      ...(credentials.s3EndpointSource ? { endpoint_source: credentials.s3EndpointSource } : {}),
      ...(credentials.natsUrlSource ? { nats_url_source: credentials.natsUrlSource } : {}),
      loaded_at: credentials.loadedAt.toISOString(),
      warnings: credentials.warnings,
    },
    sync: {
      namespace: ctx.namespace,
      conflict_mode: config.sync.conflictMode,
      pending_conflicts: new Set([
        ...listConflicts(ctx.state, ctx.namespace).map((c) => c.path),
        ...host.reporting.conflicts.pending(ctx.namespace),
      ]).size,
      poll_interval_secs: config.sync.pollIntervalSecs,
      roots: loop ? [loop.status()] : [],
    },
    encryption: host.encryption(),
    gc: host.gc.status(),
    config_file: config.file.path,
    socket: config.daemon.socket,
    ...(metricsAddr ? { metrics_addr: metricsAddr } : {}),
    mounts: host.mounts.status(),
  };
}

/**
 * The queued conflicts, those the daemon met, and those a status scan of the sync root shows,
 * one entry per path.
 */
async function pendingConflicts(host: DaemonHost): Promise<ConflictEntry[]> {
  const config = host.config();
  const ctx = host.context();
  const byPath = new Map<string, ConflictEntry>();
  for (const queued of listConflicts(ctx.state, ctx.namespace)) {
    byPath.set(queued.path, {
      path: queued.path,
      remote: remoteDisplayPath(ctx, queued.path),
      local_path: queued.local_path,
      detected_by: queued.detected_by,
      detected_at: queued.detected_at,
      remote_authors: queued.remote_authors,
    });
  }
  const root = config.sync.syncRoot;
  const met = host.reporting.conflicts.pending(ctx.namespace);
  const scanned = root
    ? (await syncStatus(ctx, {
      localPath: root,
      remoteRel: "",
      excludes: config.sync.excludePatterns,
    }))
      .filter((row) => row.state === "conflict")
    : [];
  for (const row of scanned) {
    if (byPath.has(row.path)) continue;
    byPath.set(row.path, {
      path: row.path,
      remote: row.remote,
      local_path: row.local,
      detected_by: met.includes(row.path) ? "daemon" : "sync-status",
      remote_authors: [],
    });
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * Announces the versions a restore wrote on top that its pull did not (the pull announces the
 * paths it brought in line: not those kept as local edits, nor any outside the sync root), so
 * other devices pull them now rather than at their next poll.
 */
async function announceRestored(
  host: DaemonHost,
  ctx: SyncContext,
  restored: readonly RestoredItem[],
): Promise<void> {
  const written = restored.filter((item) => item.new_version !== undefined);
  if (written.length === 0) return;
  const headsFor = await headsLookup(ctx);
  const ns = trackedNamespace(ctx);
  for (const { path, new_version } of written) {
    const head = headsFor(path).heads.find((h) => versionId(h.version) === new_version);
    if (!head || ctx.state.getTracked(ns, path)?.baseKey === head.key) continue;
    host.reporting.announce({
      type: "file_synced",
      namespace: ctx.namespace,
      path,
      version_key: head.key,
      vclock: head.version.vclock,
      journal_seq: journalCursors(ctx.state, ns).get(ctx.device.id),
    });
  }
}

function absolutePath(path: string | undefined, field: string): string | undefined {
  if (path === undefined) return undefined;
  if (!isAbsolute(path)) {
    throw new TcfsError(`"${field}" must be an absolute path, not ${JSON.stringify(path)}`, {
      kind: "bad_request",
      exitCode: ExitCode.usage,
      hint: "the daemon has no working directory of yours; resolve the path first",
    });
  }
  return resolve(path);
}

function syncRoot(config: TcfsConfig, operation: string): string {
  if (config.sync.syncRoot) return config.sync.syncRoot;
  throw new TcfsError(`no path given and no sync_root configured for ${operation}`, {
    kind: "usage",
    exitCode: ExitCode.usage,
    hint: "give a path, or set [sync] sync_root and reload the daemon",
  });
}

/** A conflict's path relative to the namespace, from that or an absolute local path. */
function conflictRel(config: TcfsConfig, path: string): string {
  let rel = path;
  if (isAbsolute(path)) {
    const root = syncRoot(config, "resolving a local path");
    rel = relative(root, resolve(path)).split(sep).join("/");
  }
  const unsafe = unsafePathReason(rel);
  if (unsafe || rel.startsWith("../")) {
    throw new TcfsError(`${JSON.stringify(path)} is not a path inside the sync root`, {
      kind: "bad_request",
      exitCode: ExitCode.usage,
      hint: "give the path as `tcfs conflicts` lists it",
    });
  }
  return rel;
}
