/**
 * The mounts the daemon serves (`[mount] mounts`): mounted at start (a failed one is tried
 * again until it mounts), unmounted at SIGTERM, refreshed when the daemon hears of a remote
 * change, and reported by `/v1/mounts` and `/v1/status`. A mount point left mounted by a daemon
 * that was killed is cleared before it is mounted again.
 *
 * @module
 */

import type { TcfsConfig } from "../core/config/config_schema.ts";
import type { SyncContext } from "../core/sync/sync_context.ts";
import { describeError } from "../core/errors.ts";
import { parseConfiguredMount } from "../core/mount/configured_mount.ts";
import {
  mountSettings,
  type MountStatus,
  runMount,
  type RunningMount,
} from "../core/mount/mount_runner.ts";
import { serveFuse } from "../platform/fuse/fuse_session.ts";
import { detachFuse, isMountPoint } from "../platform/fuse/fuse_mount.ts";

/** The daemon's mounts. */
export interface DaemonMounts {
  /** Mounts every configured entry; one that fails is logged and left out. */
  start(): Promise<void>;
  /** Unmounts them all. */
  stop(): Promise<void>;
  /**
   * A state event of the namespace arrived (NATS): every mount reads the heads now, so another
   * device's change shows within about a second; the poll stays for when NATS is away.
   */
  remoteChanged(): void;
  status(): MountStatus[];
}

/** What {@linkcode createDaemonMounts} needs from the daemon. */
export interface DaemonMountsOptions {
  config: () => TcfsConfig;
  /** The daemon's sync context: the namespace mounts show, its store and keys. */
  context: () => SyncContext;
  log: (level: "info" | "warning" | "error", message: string) => void;
}

/**
 * The mounts of `[mount] mounts`.
 *
 * @example
 * ```ts
 * const mounts = createDaemonMounts({ config: () => config, context, log });
 * await mounts.start();
 * ```
 */
export function createDaemonMounts(options: DaemonMountsOptions): DaemonMounts {
  const running = new Map<string, RunningMount>();

  async function mountOne(entry: string): Promise<void> {
    const config = options.config();
    const ctx = options.context();
    const { mountpoint, spec } = parseConfiguredMount(entry, config.storage.bucket, ctx.namespace);
    if (spec.namespace !== ctx.namespace) {
      throw new Error(
        `${entry}: the daemon mounts its own namespace (${ctx.namespace}) only; ` +
          `mount another one with tcfs mount`,
      );
    }
    if (await isMountPoint(mountpoint)) {
      // Left by a daemon that did not get to unmount (kill -9).
      options.log("warning", `${mountpoint} was still mounted: unmounting it first`);
      await detachFuse(mountpoint, { lazy: true });
    }
    const mount = await runMount(ctx, {
      ...mountSettings(config),
      mountpoint,
      prefix: spec.rel,
      readOnly: false,
      log: (message) => options.log("warning", `mount ${mountpoint}: ${message}`),
    }, serveFuse);
    running.set(mountpoint, mount);
    mount.closed.then(() => {
      if (running.get(mountpoint) === mount) running.delete(mountpoint);
    });
    const { remote, files } = mount.status();
    options.log("info", `mounted ${remote} at ${mountpoint} (${files} files)`);
  }

  /**
   * Entries that could not be mounted (a first mount with the store unreachable, a mount point
   * not there yet), tried again every poll interval.
   */
  const failed = new Set<string>();
  let retry: ReturnType<typeof setInterval> | undefined;
  /** The round of retries under way, which `stop` waits for: a mount it makes must not outlive it. */
  let retrying: Promise<void> | undefined;
  let stopped = false;

  async function tryMount(entry: string): Promise<void> {
    try {
      await mountOne(entry);
      failed.delete(entry);
    } catch (err) {
      // Said once: a laptop that boots offline would otherwise log it every half minute.
      if (!failed.has(entry)) {
        options.log(
          "error",
          `could not mount ${entry} (tried again every poll interval): ${describeError(err)}`,
        );
      }
      failed.add(entry);
    }
  }

  return {
    async start() {
      for (const entry of options.config().mount.mounts) await tryMount(entry);
      if (failed.size === 0) return;
      retry = setInterval(() => {
        retrying ??= (async () => {
          for (const entry of [...failed]) if (!stopped) await tryMount(entry);
          if (failed.size === 0) clearInterval(retry);
        })().finally(() => retrying = undefined);
      }, options.config().sync.pollIntervalSecs * 1000);
    },
    async stop() {
      stopped = true;
      clearInterval(retry);
      await retrying;
      await Promise.all([...running.values()].map(async (mount) => {
        try {
          await mount.unmount();
          options.log("info", `unmounted ${mount.mountpoint}`);
        } catch (err) {
          options.log("warning", `could not unmount ${mount.mountpoint}: ${describeError(err)}`);
        }
      }));
      running.clear();
    },
    remoteChanged() {
      for (const mount of running.values()) mount.refreshSoon();
    },
    status: () => [...running.values()].map((mount) => mount.status()),
  };
}
