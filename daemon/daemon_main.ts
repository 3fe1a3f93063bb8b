/**
 * `tcfs daemon`: the service's life from start to exit. It loads the config and credentials,
 * opens the state db, serves the control API and the metrics, runs the sync loop and the NATS
 * event bus, and tells systemd how it is doing. SIGHUP reloads the config and credentials
 * between two steps of work; SIGTERM (or SIGINT) finishes the file in flight, publishes
 * `device_offline`, and exits 0 within 10 s.
 *
 * @module
 */

import { approveInvitedDevices } from "../core/crypto/invited_approvals.ts";
import { namespaceKeys } from "../core/crypto/device_keys.ts";
import { newestKeychainEpoch } from "../core/crypto/keychain_store.ts";
import { resolve } from "node:path";
import type { LogFormat, LogLevel, TcfsConfig } from "../core/config/config_schema.ts";
import type { ResolvedCredentials } from "../core/credentials/credential_chain.ts";
import { type DeviceIdentity, loadOrCreateDeviceIdentity } from "../core/device/device_identity.ts";
import { describeError } from "../core/errors.ts";
import type { StateEvent } from "../core/events/state_event.ts";
import {
  configuredNatsUrl,
  configuredStore,
  type DeviceSetup,
  loadDeviceSetup,
  resolveConfiguredCredentials,
} from "../core/runtime/device_setup.ts";
import {
  watchConfiguredCredentials,
  withConfiguredCredentialRefresh,
} from "../core/runtime/credential_reload.ts";
import { StateDb } from "../core/state/state_db.ts";
import {
  acquireWriterLock,
  describeHolder,
  lockTimeoutMs,
  writerLockPath,
} from "../core/state/writer_lock.ts";
import type { ObjectStore } from "../core/store/object_store.ts";
import type { SyncContext } from "../core/sync/sync_context.ts";
import { createSdNotifier } from "../platform/sd_notify.ts";
import { createActivityFeed } from "./activity_feed.ts";
import type { ReloadResponse } from "./api/api_types.ts";
import { serveControlApi } from "./api/control_server.ts";
import { claimSocketPath } from "./api/socket_claim.ts";
import { configChanges } from "./config_changes.ts";
import { createDaemonApi, type DaemonHost } from "./daemon_api.ts";
import { closeDaemonLog, configureDaemonLog, type DaemonLog, daemonLog } from "./daemon_log.ts";
import { createDaemonMetrics } from "./metrics/daemon_metrics.ts";
import { type MetricsServer, serveMetrics } from "./metrics/metrics_server.ts";
import { createEventBus } from "./nats/event_bus.ts";
import { createStorageProbe } from "./storage_probe.ts";
import { startFleetPresence } from "./fleet_presence.ts";
import { abortableStore } from "./sync/abortable_store.ts";
import { createFailureLedger } from "./sync/failure_ledger.ts";
import { createConflictLedger } from "./sync/conflict_ledger.ts";
import type { EventFields, TransferReporting } from "./sync/reported_transfers.ts";
import { createSyncLoop, type SyncLoop } from "./sync/sync_loop.ts";
import { createScheduledGc } from "./scheduled_gc.ts";
import { createDaemonMounts } from "./daemon_mounts.ts";
import { massDeleteLimits } from "../core/sync/deletion_guard.ts";
import { readDeviceEnvironment } from "../platform/device_environment.ts";
import { hostFacts } from "../platform/host_facts.ts";
import { pullChunkCache } from "../core/cache/device_chunk_cache.ts";
import { recordInstance, thisInstance } from "../core/device/device_instances.ts";

/** Command-line settings that win over the config file and the environment. */
export interface DaemonOverrides {
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  /** The control socket's path. */
  socket?: string;
}

/** How long the sync loop may take to finish the file in flight before it is aborted. */
const FINISH_IN_FLIGHT_MS = 5_000;
/** How long an aborted transfer gets to clean up (remove its temp file). */
const ABORT_GRACE_MS = 1_500;
/** How long the outbox keeps draining to NATS at shutdown. */
const BUS_DRAIN_MS = 1_500;
/** Past this, the process exits whatever is still running. */
const HARD_EXIT_MS = 9_500;
/** How often an unreachable store is asked again to get ready. */
const STORE_RETRY_MS = 5_000;
/** How often the daemon records its installation for `tcfs doctor`'s clone check. */
const INSTANCE_REFRESH_MS = 6 * 3600_000;
/** Events naming a newer key epoch have the keychains read at most this often. */
const EVENT_KEYS_READ_MS = 10_000;
/** A replaced store stays open this long for requests that began before a reload. */
const OLD_STORE_GRACE_MS = 60_000;

/** What a reload replaces as a whole. */
interface LiveSetup {
  setup: DeviceSetup;
  credentials: ResolvedCredentials;
  device: DeviceIdentity;
  store: ObjectStore;
}

/**
 * Runs the daemon in the foreground until SIGTERM or SIGINT, and returns the exit code.
 *
 * @throws {TcfsError} when it can't start: an invalid config, missing credentials, or another
 *   daemon on the socket (`another tcfs daemon is running on <path>`).
 *
 * @example
 * ```ts
 * Deno.exitCode = await runDaemon({ logFormat: "json" });
 * ```
 */
export async function runDaemon(overrides: DaemonOverrides = {}): Promise<number> {
  const setup = withOverrides(await loadDeviceSetup(await readDeviceEnvironment()), overrides);
  await configureDaemonLog(logSettings(setup.config));
  const log = daemonLog();
  // A long-running service must not die of one stray rejected promise; the failed operation
  // reports its own error, and this records the stray.
  const onStray = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    log("error", `unhandled failure (ignored): ${describeError(event.reason)}`);
  };
  globalThis.addEventListener("unhandledrejection", onStray);
  try {
    return await serve(setup, overrides, log);
  } finally {
    globalThis.removeEventListener("unhandledrejection", onStray);
    await closeDaemonLog();
  }
}

async function serve(
  firstSetup: DeviceSetup,
  overrides: DaemonOverrides,
  log: DaemonLog,
): Promise<number> {
  const startedAt = new Date();
  const socket = firstSetup.config.daemon.socket;
  // Before touching anything else: a second daemon must change nothing.
  await claimSocketPath(socket);
  const stopping = new AbortController();
  // One writer per device state: a CLI push in progress finishes first.
  const lock = await acquireWriterLock(writerLockPath(firstSetup.config.paths.stateDb), {
    role: "daemon",
    timeoutMs: lockTimeoutMs(firstSetup.env),
    onWait: (holder) =>
      log("warning", `waiting for ${describeHolder(holder)} to finish with this device's state`),
  });
  let live = await loadLiveSetup(firstSetup, stopping.signal, log);
  const state = await StateDb.open(live.setup.config.paths.stateDb);
  const natsUrl = () => configuredNatsUrl(live.setup.config, live.credentials);
  const probe = createStorageProbe(() => live.store);
  const presence = startFleetPresence({
    store: () => live.store,
    state,
    deviceId: () => live.device.id,
    checkEveryMs: () => live.setup.config.sync.pollIntervalSecs * 1000,
    loadKeys: () =>
      namespaceKeys(live.store, state, live.setup.config.sync.namespace, {
        id: live.device.id,
        name: live.device.name,
        ageKeyFile: live.setup.config.paths.ageKeyFile,
      }),
    newestEpoch: () => newestKeychainEpoch(live.store),
    approveInvited: () =>
      approveInvitedDevices(live.store, state, {
        id: live.device.id,
        name: live.device.name,
        ageKeyFile: live.setup.config.paths.ageKeyFile,
      }),
    log,
  });
  let eventKeysReadAt = 0;
  const bus = createEventBus({
    natsUrl: natsUrl(),
    nats: live.setup.config.nats,
    deviceId: live.device.id,
    state,
    keys: {
      current: () => presence.keys(),
      known: () => presence.keysRead(),
      refresh: () => {
        // A revoked device meets a newer epoch in every event: not a keychain read for each.
        if (Date.now() - eventKeysReadAt < EVENT_KEYS_READ_MS) {
          return Promise.resolve(presence.keys());
        }
        eventKeysReadAt = Date.now();
        return presence.refreshKeys();
      },
    },
    log,
  });
  const metrics = createDaemonMetrics({
    natsConnected: () => bus.status().state === "connected",
    natsStream: () => {
      const status = bus.status();
      return {
        reconnects: status.reconnects,
        replicas: status.stream?.replicas ?? 0,
        leaderChanges: status.streamLeaderChanges,
      };
    },
    outboxDepth: () => bus.status().outboxDepth,
    storageReachable: () => probe.last().reachable,
  });
  const feed = createActivityFeed();
  const announce = (fields: EventFields) => {
    const event: StateEvent = {
      id: crypto.randomUUID(),
      device_id: live.device.id,
      device_name: live.device.name,
      timestamp: new Date().toISOString(),
      ...fields,
    };
    bus.publish(event);
    metrics.eventsPublished.inc();
    feed.publish({ kind: "state_event", direction: "published", at: event.timestamp, event });
  };
  const reporting: TransferReporting = {
    metrics,
    announce,
    activity: (line) => feed.publish(line),
    conflicts: createConflictLedger(),
    failures: createFailureLedger(),
    log,
  };
  const context = (namespace?: string): SyncContext => {
    const { config } = live.setup;
    return {
      store: live.store,
      state,
      device: { id: live.device.id, name: live.device.name },
      bucket: config.storage.bucket,
      namespace: namespace ?? config.sync.namespace,
      conflictMode: config.sync.conflictMode,
      maxConflicts: config.sync.maxConflicts,
      links: config.sync.links,
      // Another namespace's keys are not kept: it is synced as plaintext, which the journal
      // refuses to write into a sealed namespace.
      keys: namespace === undefined || namespace === config.sync.namespace
        ? presence.keys()
        : undefined,
      revoked: presence.revoked(),
      // One cache for the daemon's pulls and mounts: opening it reads its whole folder.
      chunkCache: () =>
        pullChunkCache(config.paths.cacheDir, config.mount.cacheSize, config.mount.mounts),
      log,
    };
  };
  const makeLoop = (config: TcfsConfig): SyncLoop | undefined => {
    const root = config.sync.syncRoot;
    if (!root) {
      log("warning", "no [sync] sync_root configured: nothing is watched or synced on its own");
      return undefined;
    }
    return createSyncLoop({
      root,
      context: () => context(),
      settings: () => ({
        excludes: live.setup.config.sync.excludePatterns,
        debounceMs: live.setup.config.sync.debounceMs,
        pollIntervalSecs: live.setup.config.sync.pollIntervalSecs,
        massDelete: massDeleteLimits(live.setup.config.sync),
      }),
      natsConnected: () => bus.status().state === "connected",
      reporting,
      log,
      beforeStep: async () => void await presence.currentKeys(),
    });
  };
  let loop = makeLoop(live.setup.config);
  const exclusive = <T>(operation: (ctx: SyncContext) => Promise<T>): Promise<T> =>
    loop ? loop.exclusive(operation) : operation(context());
  const gc = createScheduledGc({ config: () => live.setup.config, exclusive, metrics, log });
  const mounts = createDaemonMounts({ config: () => live.setup.config, context, log });

  let reloading = Promise.resolve();
  const reload = (): Promise<ReloadResponse> => {
    const result = reloading.then(async () => {
      const next = await loadLiveSetup(
        withOverrides(await loadDeviceSetup(await readDeviceEnvironment()), overrides),
        stopping.signal,
        log,
      );
      const before = live;
      const changes = configChanges(before.setup.config, next.setup.config);
      // Swapped between two steps of the loop: work in progress finishes on the old store.
      await exclusive(() => Promise.resolve(void (live = next)));
      keepStoreReady(next, stopping.signal, log);
      const retired = setTimeout(() => before.store.close(), OLD_STORE_GRACE_MS);
      Deno.unrefTimer(retired);
      await configureDaemonLog(logSettings(next.setup.config));
      await bus.reload({ natsUrl: natsUrl(), nats: next.setup.config.nats });
      const oldSync = before.setup.config.sync;
      const newSync = next.setup.config.sync;
      if (oldSync.syncRoot !== newSync.syncRoot || oldSync.namespace !== newSync.namespace) {
        await loop?.stop();
        loop = makeLoop(next.setup.config);
        await loop?.start();
      } else loop?.settingsChanged();
      gc.settingsChanged();
      for (const name of changes.needsRestart) {
        log("warning", `${name} changed: it takes effect when the daemon restarts`);
      }
      log(
        "info",
        `reloaded the config and credentials (credentials from ${next.credentials.source}); ` +
          `changed: ${changes.changed.join(", ") || "nothing"}`,
      );
      return {
        reloaded_at: new Date().toISOString(),
        changed: changes.changed,
        needs_restart: changes.needsRestart,
      };
    });
    reloading = result.then(() => {}, () => {});
    return result;
  };

  let metricsServer: MetricsServer | undefined;
  try {
    metricsServer = await serveMetrics({
      addr: live.setup.config.daemon.metricsAddr,
      registry: metrics.registry,
      ready: async () => {
        const { reachable, error } = await probe.probe();
        return { ready: reachable, reason: error };
      },
    });
  } catch (err) {
    log("error", `${describeError(err)} (continuing without metrics)`);
  }

  const host: DaemonHost = {
    startedAt,
    config: () => live.setup.config,
    credentials: () => live.credentials,
    device: () => live.device,
    natsUrl,
    metricsAddr: () => metricsServer?.addr,
    bus,
    probe,
    loop: () => loop,
    reporting,
    feed,
    gc,
    mounts,
    encryption: () => presence.encryption(),
    context,
    exclusive,
    reload,
  };
  const server = await serveControlApi({ path: socket, handlers: createDaemonApi(host), log });
  const credentialWatch = watchConfiguredCredentials({
    setup: () => live.setup,
    onChange: (changed) => {
      log("info", `${changed.join(", ")} changed: reloading the config and credentials`);
      return reload().catch((err) =>
        log("error", `reload failed, keeping the running config: ${describeError(err)}`)
      );
    },
    onError: (err) => log("warning", `watching the credential files: ${describeError(err)}`),
  });

  bus.onEvent((event) => {
    metrics.eventsReceived.inc();
    feed.publish({
      kind: "state_event",
      direction: "received",
      at: new Date().toISOString(),
      event,
    });
    if (event.namespace === live.setup.config.sync.namespace) {
      const paths = event.type === "file_renamed"
        ? [event.old_path, event.path]
        : ["file_synced", "file_deleted", "conflict_resolved"].includes(event.type)
        ? [event.path]
        : [];
      const segment = event.journal_seq === undefined
        ? undefined
        : { device: event.device_id, seq: event.journal_seq };
      loop?.remoteChanged(
        paths.filter((path): path is string => typeof path === "string"),
        segment,
      );
      if (paths.length > 0) mounts.remoteChanged();
    }
    return Promise.resolve();
  });
  bus.onHint(() => loop?.pollSoon());
  keepStoreReady(live, stopping.signal, log);
  const stateDb = live.setup.config.paths.stateDb;
  const noteInstance = () =>
    hostFacts()
      .then((host) => thisInstance(host, stateDb))
      .then((me) => recordInstance(live.store, live.device.id, me))
      .catch((err) =>
        log("warning", `could not record this installation in the store: ${describeError(err)}`)
      );
  noteInstance();
  const instanceTimer = setInterval(noteInstance, INSTANCE_REFRESH_MS);
  Deno.unrefTimer(instanceTimer);
  announce({ type: "device_online" });
  await settlesWithin(presence.ready, 5_000);
  await loop?.start();
  gc.start();
  await mounts.start();

  const notifier = createSdNotifier({
    env: live.setup.env,
    warn: (message) => log("warning", message),
  });
  await notifier.ready(`serving on ${socket}`);
  const stopWatchdog = notifier.startWatchdog();
  log(
    "info",
    `tcfs daemon ${live.device.name} (${live.device.id}) serving on ${socket}` +
      (metricsServer ? `, metrics on http://${metricsServer.addr}/metrics` : "") +
      `; store ${live.store.location}; NATS ${bus.status().state}`,
  );

  const finished = Promise.withResolvers<number>();
  const onHangup = () => {
    reload().catch((err) =>
      log("error", `reload failed, keeping the running config: ${describeError(err)}`)
    );
  };
  const onStop = (signal: Deno.Signal) => async () => {
    Deno.removeSignalListener("SIGTERM", onTerm);
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGHUP", onHangup);
    log("info", `${signal}: stopping`);
    const hardExit = setTimeout(() => {
      log("error", "shutdown took too long; exiting with work still in progress");
      Deno.exit(1);
    }, HARD_EXIT_MS);
    await notifier.stopping(`stopping on ${signal}`);
    stopWatchdog();
    credentialWatch.close();
    clearInterval(instanceTimer);
    gc.stop();
    await settlesWithin(mounts.stop(), FINISH_IN_FLIGHT_MS);
    presence.stop();
    feed.close();
    const loopStopped = loop?.stop() ?? Promise.resolve();
    if (!await settlesWithin(loopStopped, FINISH_IN_FLIGHT_MS)) {
      log("warning", "the transfer in flight did not finish in time: aborting it");
      stopping.abort();
      await settlesWithin(loopStopped, ABORT_GRACE_MS);
    }
    stopping.abort();
    announce({ type: "device_offline" });
    await settlesWithin(bus.close(BUS_DRAIN_MS), BUS_DRAIN_MS + 500);
    await settlesWithin(server.shutdown(), 500);
    await settlesWithin(metricsServer?.shutdown() ?? Promise.resolve(), 500);
    live.store.close();
    state.close();
    lock.release();
    clearTimeout(hardExit);
    log("info", "stopped");
    finished.resolve(0);
  };
  const onTerm = onStop("SIGTERM");
  const onInt = onStop("SIGINT");
  Deno.addSignalListener("SIGHUP", onHangup);
  Deno.addSignalListener("SIGTERM", onTerm);
  Deno.addSignalListener("SIGINT", onInt);
  return await finished.promise;
}

/** Reads the credentials and opens the store the setup names (without a request yet). */
async function loadLiveSetup(
  setup: DeviceSetup,
  signal: AbortSignal,
  log: DaemonLog,
): Promise<LiveSetup> {
  const { config } = setup;
  const credentials = await resolveConfiguredCredentials(setup, false);
  for (const warning of credentials.warnings) log("warning", warning);
  const device = await loadOrCreateDeviceIdentity(config.paths.deviceFile, config.sync.deviceName);
  const open = (fresh: ResolvedCredentials) =>
    abortableStore(configuredStore(config, fresh), signal);
  const live: LiveSetup = { setup, credentials, device, store: open(credentials) };
  // S3 refusing the keys may mean they were just rotated: reload them once and retry.
  live.store = withConfiguredCredentialRefresh(live.store, {
    setup,
    interactive: false,
    readEnv: async () => (await readDeviceEnvironment()).env,
    open,
    onReload: (fresh) => {
      live.credentials = fresh;
      log("info", `S3 refused a request: reloaded the credentials (now from ${fresh.source})`);
    },
  });
  return live;
}

/** Creates the bucket (or store directory) as soon as the store answers. */
function keepStoreReady(live: LiveSetup, signal: AbortSignal, log: DaemonLog): void {
  (async () => {
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await live.store.ensureReady();
        if (attempt > 1) log("info", `the store ${live.store.location} answers again`);
        return;
      } catch (err) {
        if (signal.aborted) return;
        if (attempt === 1) {
          log(
            "warning",
            `the store ${live.store.location} is not reachable (${describeError(err)}); ` +
              `retrying every ${STORE_RETRY_MS / 1000} s`,
          );
        }
        await new Promise((resolve) => Deno.unrefTimer(setTimeout(resolve, STORE_RETRY_MS)));
      }
    }
  })();
}

function withOverrides(setup: DeviceSetup, overrides: DaemonOverrides): DeviceSetup {
  const daemon = { ...setup.config.daemon };
  if (overrides.socket) daemon.socket = resolve(overrides.socket);
  if (overrides.logLevel) daemon.logLevel = overrides.logLevel;
  if (overrides.logFormat) daemon.logFormat = overrides.logFormat;
  return { ...setup, config: { ...setup.config, daemon } };
}

function logSettings(config: TcfsConfig) {
  return { level: config.daemon.logLevel, format: config.daemon.logFormat };
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
