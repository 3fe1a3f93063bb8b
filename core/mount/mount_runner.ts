/**
 * One running mount, start to end, for `tcfs mount` and for the daemon's configured mounts: its
 * own state database, its source (`mount_source.ts`) attached through FUSE, the heads read again
 * every poll interval, and what it reports (`/v1/mounts`). The FUSE transport is passed in
 * (`serveFuse` from platform/fuse), so the engine stays free of platform code.
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { TcfsConfig } from "../config/config_schema.ts";
import { StateDb } from "../state/state_db.ts";
import { remoteDisplayPath, type SyncContext } from "../sync/sync_context.ts";
import { describeError } from "../errors.ts";
import { openMountSource } from "./mount_source.ts";
import type { FuseAttach, FuseSession } from "./fuse_attach.ts";

/** What a mount is, and its settings. */
export interface MountRequest {
  /** Absolute. */
  mountpoint: string;
  /** The path below the namespace shown at the mount point ("" for all of it). */
  prefix: string;
  readOnly: boolean;
  /** `$XDG_CACHE_HOME/tcfs`: chunks and staging go below it. */
  cacheDir: string;
  /** Where mounts keep their state databases. */
  stateDir: string;
  cacheBytes: number;
  readTimeoutMs: number;
  pollIntervalMs: number;
  /** A file kept open is pushed after this long without a write. */
  writeQuietMs: number;
  log: (message: string) => void;
}

/** The settings of a {@linkcode MountRequest} that come from the configuration. */
export type ConfiguredMountSettings = Pick<
  MountRequest,
  "cacheDir" | "stateDir" | "cacheBytes" | "readTimeoutMs" | "pollIntervalMs" | "writeQuietMs"
>;

/**
 * A mount's settings from `config`, the same for `tcfs mount` and the daemon's mounts.
 *
 * @example
 * ```ts
 * const mount = await runMount(ctx, { ...mountSettings(config), mountpoint, prefix: "",
 *   readOnly: false, log: console.error }, serveFuse);
 * ```
 */
export function mountSettings(config: TcfsConfig): ConfiguredMountSettings {
  return {
    cacheDir: config.paths.cacheDir,
    stateDir: join(dirname(config.paths.stateDb), "mounts"),
    cacheBytes: config.mount.cacheSize,
    readTimeoutMs: config.mount.readTimeoutSecs * 1000,
    pollIntervalMs: config.sync.pollIntervalSecs * 1000,
    writeQuietMs: config.mount.writeQuietSecs * 1000,
  };
}

/** A mount's figures, as `/v1/mounts` and `tcfs status` show them. */
export interface MountStatus {
  mountpoint: string;
  remote: string;
  read_only: boolean;
  files: number;
  bytes: number;
  cache_bytes: number;
  cache_max_bytes: number;
  /** Chunk fetches in flight now. */
  hydrating: number;
  /** Bytes of the namespace's pinned files (`tcfs pin`), kept cached. */
  pinned_bytes: number;
  chunks_downloaded: number;
  bytes_downloaded: number;
}

/** A running mount. */
export interface RunningMount {
  readonly mountpoint: string;
  /** Settles once it is unmounted (by `unmount` or by anyone) and cleaned up. */
  readonly closed: Promise<void>;
  unmount(): Promise<void>;
  /** Reads the heads again now, without waiting for the poll: a remote change was announced. */
  refreshSoon(): void;
  status(): MountStatus;
}

/**
 * Mounts the namespace of `ctx` (its `state` is replaced by the mount's own) as `request` says.
 *
 * @example
 * ```ts
 * const mount = await runMount(ctx, { mountpoint: "/mnt/fleet", prefix: "", ... }, serveFuse);
 * await mount.closed;
 * ```
 */
export async function runMount(
  base: SyncContext,
  request: MountRequest,
  attach: FuseAttach,
): Promise<RunningMount> {
  const { mountpoint, log } = request;
  // The mount keeps its own state (its copies of the paths it writes), apart from the sync
  // root's.
  const id = await mountId(mountpoint);
  await Deno.mkdir(request.stateDir, { recursive: true });
  const state = await StateDb.open(join(request.stateDir, `${id}.db`));
  let session: FuseSession;
  let poll: ReturnType<typeof setInterval> | undefined;
  const ctx: SyncContext = { ...base, state };
  const remote = remoteDisplayPath(ctx, request.prefix);
  let source;
  try {
    source = await openMountSource(ctx, request.prefix, {
      cacheDir: request.cacheDir,
      stagingDir: join(request.cacheDir, "staging", id),
      cacheBytes: request.cacheBytes,
      readTimeoutMs: request.readTimeoutMs,
      writeQuietMs: request.writeQuietMs,
      log,
      mountpoint,
      deviceState: base.state,
    });
    session = await attach(mountpoint, source.ops, {
      readOnly: request.readOnly,
      source: `tcfs:${remote}`,
      log,
    });
  } catch (err) {
    state.close();
    throw err;
  }
  // Remote changes show without a remount: the heads are read again every poll interval, and
  // at once when the daemon hears of a change (`refreshSoon`). One read at a time; a request
  // during one makes one more after it, so the last change is never missed.
  let refreshing = false;
  let again = false;
  const refresh = async () => {
    if (poll === undefined) return; // unmounted: the state database is closed
    if (refreshing) return void (again = true);
    refreshing = true;
    try {
      do {
        again = false;
        for (const ino of await source.refresh()) session.invalidate(ino);
      } while (again && poll !== undefined);
    } catch (err) {
      log(`could not read the remote's changes (the tree shown stays): ${describeError(err)}`);
    } finally {
      refreshing = false;
    }
  };
  poll = setInterval(refresh, request.pollIntervalMs);
  const closed = session.closed.finally(() => {
    clearInterval(poll);
    poll = undefined;
    source.close();
    state.close();
  });
  return {
    mountpoint,
    closed,
    unmount: () => session.unmount(),
    refreshSoon: () => void refresh(),
    status: () => ({
      mountpoint,
      remote,
      read_only: request.readOnly,
      files: source.tree.files,
      bytes: source.tree.bytes,
      cache_bytes: source.cache.usedBytes,
      cache_max_bytes: source.cache.maxBytes,
      hydrating: source.hydrating(),
      pinned_bytes: source.pinnedBytes(),
      chunks_downloaded: source.counters.chunksDownloaded,
      bytes_downloaded: source.counters.bytesDownloaded,
    }),
  };
}

/** A mount's name for its state and staging: a digest of the mount point. */
async function mountId(mountpoint: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(mountpoint));
  return Array.from(new Uint8Array(digest).subarray(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}
