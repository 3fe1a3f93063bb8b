/**
 * The control API's routes and their request and response shapes, shared by the daemon
 * (`control_server.ts`) and the CLI (`control_client.ts`) so the two can't drift apart.
 * HTTP/1.1 with JSON bodies on a Unix socket; every route is versioned under `/v1/`.
 * `docs/API.md` documents each one with a curl example.
 *
 * @module
 */

import type { ConflictMode } from "../../core/config/config_schema.ts";
import type { StateEvent } from "../../core/events/state_event.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { PathStatus } from "../../core/sync/sync_status.ts";
import type { Resolution, ResolutionOutcome } from "../../core/conflicts/conflict_resolver.ts";
import type { PathLog, RestoreReport } from "../../core/history/history_report.ts";
import type { GcReport } from "../../core/gc/gc_run.ts";
import type { MountStatus } from "../../core/mount/mount_runner.ts";
import type { GcResult } from "../metrics/daemon_metrics.ts";

/** Every error the API returns, with a non-2xx status. */
export interface ApiErrorBody {
  error: {
    /** Machine-readable, stable: `not_found`, `bad_request`, `config_invalid`, … */
    kind: string;
    message: string;
    hint?: string;
    /** The exit code the CLI should use for it (see `ExitCode`). */
    exit_code: number;
  };
}

/**
 * `GET /v1/identity`: whom the daemon works for. The CLI hands it work only when all of these
 * are its own; the daemon holds that device's state lock (pid) for its life.
 */
export interface IdentityResponse {
  pid: number;
  device: { id: string; name: string };
  /** The store in effect: `location` as in `storage.endpoint` of `/v1/status`. */
  store: { location: string; bucket: string };
  /** The configured namespace. */
  namespace: string;
}

/** `GET /v1/status`: how the daemon is doing. */
export interface StatusResponse {
  version: string;
  pid: number;
  started_at: string;
  uptime_secs: number;
  device: { id: string; name: string };
  storage: StorageStatus;
  nats: NatsStatus;
  credentials: CredentialStatus;
  sync: SyncStatusSummary;
  encryption: EncryptionStatus;
  gc: GcStatus;
  /** The config file in effect (it may not exist: then the defaults apply). */
  config_file: string;
  socket: string;
  /** Where `/metrics` is served (the bound address), absent when metrics are off. */
  metrics_addr?: string;
  /** The mounts of `[mount] mounts` (as `/v1/mounts`). */
  mounts: MountStatus[];
}

/** The store, and whether it answered just now. */
export interface StorageStatus {
  /** The endpoint URL, `file:///dir`, or the embedded store's directory. Never holds secrets. */
  endpoint: string;
  bucket: string;
  reachable: boolean;
  checked_at: string;
  /** Why it is not reachable. */
  error?: string;
}

/** The NATS event transport. */
export interface NatsStatus {
  /** `disabled` when no NATS URL is configured: the daemon then polls the store. */
  state: "connected" | "reconnecting" | "disabled";
  /** The configured URL (one server, or a cluster's comma-separated), credentials redacted. */
  url?: string;
  /** The server connected to, e.g. `nats://10.0.0.2:4222`; absent while not connected. */
  server?: string;
  /** The state stream's copies and the server holding its leader (absent outside a cluster). */
  stream?: { replicas: number; leader?: string };
  /** Reconnections since the daemon started: each time its server was lost and one reached. */
  reconnects: number;
  /** Moves of the state stream's leader to another server that the daemon saw. */
  stream_leader_changes: number;
  /** Events waiting in the durable outbox for a JetStream ack. */
  outbox_depth: number;
  last_error?: string;
  last_published_at?: string;
}

/** Where the credentials came from; never the values. */
export interface CredentialStatus {
  /** The source of the S3 key pair, e.g. `env:TCFS_S3_ACCESS`, or `none`. */
  source: string;
  endpoint_source?: string;
  nats_url_source?: string;
  loaded_at: string;
  warnings: string[];
}

/** End-to-end encryption of the configured namespace, as this device holds it. */
export interface EncryptionStatus {
  /**
   * `off`: the namespace is plaintext. `on`: it is sealed and this device holds its keys.
   * `not_approved`: it is sealed and this device holds no key for the current epoch (not let
   * in yet, or revoked): nothing is synced until `tcfs device approve <name>` on an approved
   * device. `unknown`: not read yet, or reading failed (see `error`).
   */
  state: "off" | "on" | "not_approved" | "unknown";
  /** The newest key epoch this device holds. */
  key_epoch?: number;
  /** Why it is `not_approved` or `unknown`, with the fix. */
  error?: string;
}

/** What the daemon keeps in sync. */
export interface SyncStatusSummary {
  namespace: string;
  conflict_mode: ConflictMode;
  pending_conflicts: number;
  poll_interval_secs: number;
  roots: SyncRootStatus[];
}

/** One watched folder. */
export interface SyncRootStatus {
  path: string;
  /** `watching` (file events), `rescanning` (watch limits hit: periodic rescans), `starting`. */
  watcher: "starting" | "watching" | "rescanning";
  /** The last time a push or pull of this root completed without error. */
  last_sync_at?: string;
  last_error?: string;
  /** Local changes waiting for the debounce to settle. */
  pending_changes: number;
}

/** The daemon's gc: its schedule and its last run. */
export interface GcStatus {
  /** `[history] gc_interval_secs`: how often gc runs on its own; 0 never. */
  interval_secs: number;
  /** When the next scheduled run is due. */
  next_run_at?: string;
  /** The last run this daemon made or was asked for (dry runs aside), since it started. */
  last_run?: GcRunRecord;
}

/** How a gc run of the daemon went. */
export interface GcRunRecord {
  /** When it ended. */
  at: string;
  /** `schedule`, or `api` (`tcfs gc` through the daemon). */
  trigger: "schedule" | "api";
  /**
   * `ok`; `problems` (journal objects could not be read: no pack was deleted); `lease_held`
   * (another gc was running); `error`.
   */
  result: GcResult;
  duration_ms: number;
  /** Versions the policy dropped. */
  versions_dropped?: number;
  /** Packs and chunk objects deleted, and their bytes. */
  deleted_objects?: number;
  freed_bytes?: number;
  /** Why it did not run or failed. */
  error?: string;
}

/** `POST /v1/push`. */
export interface PushRequestBody {
  /** A local file or folder; default: the sync root. */
  path?: string;
  /** The remote path `<bucket>/<namespace>/<path>`; default: the path's place under the root. */
  remote?: string;
  /** Names the request in `progress` lines on `GET /v1/events`; none are sent without it. */
  transfer?: string;
  /** List what would happen per path (the summary's `planned`) and write nothing. */
  dry_run?: boolean;
  /** Push the deletions even when they trip the mass-delete guard. */
  allow_mass_delete?: boolean;
}

/** `POST /v1/pull`. */
export interface PullRequestBody {
  /** A remote file or prefix `<bucket>/<namespace>/<path>`; default: the whole namespace. */
  remote?: string;
  /** Where to put it; default: its place under the sync root. */
  local?: string;
  /** Names the request in `progress` lines on `GET /v1/events`; none are sent without it. */
  transfer?: string;
  /** Only list what would happen (the summary's `planned`); nothing is written. */
  dry_run?: boolean;
}

/** `GET /v1/sync-status?path=`: the query. */
export interface SyncStatusQuery {
  /** A local file or folder; default: the sync root. */
  path?: string;
}

/** A conflict waiting for a decision. */
export interface ConflictEntry {
  /** The path relative to the namespace. */
  path: string;
  /** `<bucket>/<namespace>/<path>`. */
  remote: string;
  local_path?: string;
  /** `push`, `pull`, `daemon`, or `sync-status` when only a status scan shows it. */
  detected_by: string;
  detected_at?: string;
  /** Names of the devices whose versions this device has not seen. */
  remote_authors: string[];
}

/** `GET /v1/conflicts`. */
export interface ConflictsResponse {
  conflict_mode: ConflictMode;
  conflicts: ConflictEntry[];
}

/** `POST /v1/conflicts/resolve`. */
export interface ResolveConflictRequestBody {
  /** The path relative to the namespace, or an absolute local path inside the sync root. */
  path: string;
  resolution: Resolution;
  /**
   * The local file (absolute); default: the one the queued conflict names, else the path's
   * place under the sync root.
   */
  local?: string;
}

/** `GET /v1/log?remote=`: the query. */
export interface LogQuery {
  /** A remote file `<bucket>/<namespace>/<path>`. */
  remote: string;
}

/** `POST /v1/restore`. */
export interface RestoreRequestBody {
  /** A remote file or folder `<bucket>/<namespace>/<path>` (`<bucket>/<namespace>/` for all). */
  remote: string;
  /** One version of a file, by id (as `/v1/log` lists them) or key. Not with `at`. */
  version?: string;
  /** The moment to go back to: ISO 8601, or an age such as `2h` counted back from now. */
  at?: string;
  /** Write the old content only to this absolute local path; nothing new is written remotely. */
  to?: string;
  /**
   * The absolute local file or folder to pull the restored path to; default: its place under
   * the sync root (a path of another namespace is not pulled).
   */
  local?: string;
  /** Only say what would be restored. */
  dry_run?: boolean;
}

/** `POST /v1/gc`. */
export interface GcRequestBody {
  /** Only report what would go; nothing is written or deleted. */
  dry_run?: boolean;
  /**
   * How long an unreferenced object stays condemned before it is deleted, in seconds;
   * default `[history] gc_min_age_secs`. 0 deletes at once (a store nobody else writes to).
   */
  min_age_secs?: number;
}

/** `POST /v1/reload`. */
export interface ReloadResponse {
  reloaded_at: string;
  /** Settings (`section.key`) whose value changed; values are never shown. */
  changed: string[];
  /** Changed settings that only take effect when the daemon restarts. */
  needs_restart: string[];
}

/**
 * One line of `GET /v1/events` (NDJSON): the subscription starting, a state event this device
 * published or received, local sync activity, or the progress of a push or pull asked for
 * through the API with a `transfer` name.
 */
export type ActivityLine =
  | { kind: "subscribed"; at: string }
  | { kind: "state_event"; direction: "published" | "received"; at: string; event: StateEvent }
  | SyncActivity
  | TransferProgressLine;

/** How far a named push or pull has come: up to four lines a second, and one as it ends. */
export interface TransferProgressLine {
  kind: "progress";
  at: string;
  /** The `transfer` name its request gave. */
  transfer: string;
  operation: "push" | "pull";
  files_done: number;
  files_total: number;
  bytes_done: number;
  bytes_total: number;
}

/** Something the sync loop did. */
export interface SyncActivity {
  kind: "sync";
  at: string;
  /** `scan` (full push of the root), `push`, `pull`, `poll` (full pull), `watch`. */
  operation: "scan" | "push" | "pull" | "poll" | "watch";
  outcome: "ok" | "error";
  /** Paths relative to the namespace that changed. */
  paths: string[];
  conflicts?: string[];
  error?: string;
  duration_ms?: number;
}

/** The routes, by method and path, with their request and response types. */
export interface ApiRoutes {
  "GET /v1/identity": { request: undefined; response: IdentityResponse };
  "GET /v1/status": { request: undefined; response: StatusResponse };
  "GET /v1/mounts": { request: undefined; response: MountStatus[] };
  "POST /v1/push": { request: PushRequestBody; response: PushSummary };
  "POST /v1/pull": { request: PullRequestBody; response: PullSummary };
  "GET /v1/sync-status": { request: SyncStatusQuery; response: PathStatus[] };
  "GET /v1/conflicts": { request: undefined; response: ConflictsResponse };
  "POST /v1/conflicts/resolve": {
    request: ResolveConflictRequestBody;
    response: ResolutionOutcome;
  };
  "GET /v1/log": { request: LogQuery; response: PathLog };
  "POST /v1/restore": { request: RestoreRequestBody; response: RestoreReport };
  "POST /v1/gc": { request: GcRequestBody; response: GcReport };
  "GET /v1/events": { request: undefined; response: ReadableStream<Uint8Array> };
  "POST /v1/reload": { request: undefined; response: ReloadResponse };
}

/** One of the routes. */
export type ApiRoute = keyof ApiRoutes;

/** The routes as a list, for the router and the docs test. */
export const API_ROUTES: readonly ApiRoute[] = [
  "GET /v1/identity",
  "GET /v1/status",
  "GET /v1/mounts",
  "POST /v1/push",
  "POST /v1/pull",
  "GET /v1/sync-status",
  "GET /v1/conflicts",
  "POST /v1/conflicts/resolve",
  "GET /v1/log",
  "POST /v1/restore",
  "POST /v1/gc",
  "GET /v1/events",
  "POST /v1/reload",
];

/** The content type of `/v1/events`. */
export const NDJSON_CONTENT_TYPE = "application/x-ndjson";
