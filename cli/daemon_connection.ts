/**
 * Reaching the daemon from a command: when the daemon on the configured socket serves this very
 * device, store and namespace, the command asks it to do the work (so its events go out through
 * the daemon's one NATS connection, and the daemon stays the one writer of the device's state);
 * otherwise a command that writes state takes the device's writer lock and does the work itself.
 *
 * @module
 */

import type { TcfsConfig } from "../core/config/config_schema.ts";
import type { ProgressBar } from "./progress_bar.ts";
import type { RemoteSpec } from "../core/remote/remote_spec.ts";
import { TcfsError } from "../core/errors.ts";
import { configuredStore } from "../core/runtime/device_setup.ts";
import {
  acquireWriterLock,
  describeHolder,
  lockTimeoutMs,
  type WriterLock,
  writerLockPath,
} from "../core/state/writer_lock.ts";
import type { IdentityResponse } from "../daemon/api/api_types.ts";
import {
  type ControlClient,
  createControlClient,
  daemonAvailable,
} from "../daemon/api/control_client.ts";
import type { CliRuntime } from "./cli_runtime.ts";
import { recordInstance, thisInstance } from "../core/device/device_instances.ts";
import { hostFacts } from "../platform/host_facts.ts";

/** Where a command that writes state works: through the daemon, or here under the lock. */
export interface WorkSite extends Disposable {
  /** The daemon serving this device, store and namespace; absent when working here. */
  daemon?: ControlClient;
  /** The device's writer lock, held while working here. */
  lock?: WriterLock;
}

/** What answers on the socket: a daemon serving this device, or another one and why. */
type SocketAnswer =
  | { serving: ControlClient & Disposable }
  | { other: Partial<IdentityResponse>; differs: string };

/**
 * A client for whatever daemon answers on `config.daemon.socket`, or `undefined` when none
 * does (or `TCFS_NO_DAEMON` is set). For views of the daemon itself (`tcfs status`), which
 * show whom it serves; work goes through {@linkcode daemonOrWriterLock}.
 *
 * @example
 * ```ts
 * using daemon = await runningDaemon(config);
 * const status = await daemon?.status();
 * ```
 */
export async function runningDaemon(
  config: TcfsConfig,
): Promise<(ControlClient & Disposable) | undefined> {
  if (Deno.env.get("TCFS_NO_DAEMON")) return undefined;
  if (!await daemonAvailable(config.daemon.socket)) return undefined;
  return createControlClient(config.daemon.socket);
}

/**
 * The daemon on `config.daemon.socket` when it serves this device, store and namespace;
 * `undefined` when none answers, when it serves another (a one-line note on stderr says so),
 * or when `TCFS_NO_DAEMON` is set. For commands that only read.
 *
 * @example
 * ```ts
 * using daemon = await servingDaemon(runtime);
 * const rows = daemon ? await daemon.syncStatus({ path }) : await syncStatus(ctx, request);
 * ```
 */
export async function servingDaemon(
  runtime: CliRuntime,
): Promise<(ControlClient & Disposable) | undefined> {
  const answer = await askDaemon(runtime);
  if (answer && "other" in answer) noteOtherDaemon(runtime.config, answer.differs);
  return answer && "serving" in answer ? answer.serving : undefined;
}

/**
 * Where a command that writes state (`role`, e.g. `tcfs push`) works: through the daemon
 * serving this device, store and namespace; otherwise here, holding the device's writer lock.
 * While another process holds the lock (a daemon starting, another push), it waits up to
 * `TCFS_LOCK_TIMEOUT_SECS` with a note on stderr, and takes the daemon if one starts serving.
 *
 * @throws {TcfsError} kind `state_locked` when the lock stays held, or at once when a daemon
 *   serving another store or namespace holds it.
 *
 * @example
 * ```ts
 * using site = await daemonOrWriterLock(runtime, "tcfs push", { dryRun: false });
 * const summary = site.daemon ? await site.daemon.push({ path }) : await push(ctx, request);
 * ```
 */
export async function daemonOrWriterLock(
  runtime: CliRuntime,
  role: string,
  options: { dryRun?: boolean } = {},
): Promise<WorkSite> {
  const { config } = runtime;
  const answer = await askDaemon(runtime);
  if (answer && "serving" in answer) return siteOf({ daemon: answer.serving });
  if (answer) noteOtherDaemon(config, answer.differs);
  const timeoutMs = lockTimeoutMs(runtime.env);
  let started: (ControlClient & Disposable) | undefined;
  const lock = await acquireWriterLock(writerLockPath(config.paths.stateDb), {
    role,
    timeoutMs,
    onWait: (holder) =>
      console.error(
        `tcfs: waiting up to ${Math.round(timeoutMs / 1000)} s for ${
          describeHolder(holder)
        } to finish with this device's state`,
      ),
    refuse: (holder) =>
      answer && holder && holder.pid === answer.other.pid
        ? new TcfsError(
          `the daemon on ${config.daemon.socket} (pid ${holder.pid}) holds this device's state ` +
            `but serves ${answer.differs}`,
          {
            kind: "state_locked",
            hint: "run the command with the daemon's store and namespace, or stop the daemon " +
              "while you work with another one",
          },
        )
        : undefined,
    // A daemon that was starting may answer now: then it does the work.
    giveWay: answer ? undefined : async () => {
      const now = await askDaemon(runtime);
      if (now && "serving" in now) started = now.serving;
      return started !== undefined;
    },
  });
  if (!lock) return siteOf({ daemon: started });
  // A dry run writes nothing, not even this installation's record.
  if (!options.dryRun) await noteInstance(runtime);
  return siteOf({ lock });
}

/** Records this installation for `tcfs doctor`'s clone check (see device_instances.ts). */
async function noteInstance(runtime: CliRuntime): Promise<void> {
  try {
    const me = await thisInstance(await hostFacts(), runtime.config.paths.stateDb);
    await recordInstance(await runtime.store(), (await runtime.device()).id, me);
  } catch {
    // Only the clone check misses it; the command itself reports a store it can't use.
  }
}

/**
 * Writes a parsed remote path back as `<bucket>/<namespace>/<path>`, for the daemon to parse
 * against its own configured bucket.
 *
 * @example
 * ```ts
 * remoteSpecText("tcfs", { namespace: "default", rel: "docs/a.txt" }); // "tcfs/default/docs/a.txt"
 * ```
 */
export function remoteSpecText(bucket: string, spec: RemoteSpec): string {
  return `${bucket}/${spec.namespace}/${spec.rel}`;
}

/**
 * Runs a push or pull through the daemon with `bar` drawn from the daemon's `progress` lines
 * for it: `run` gets the transfer name to put in its request. Without an active bar the
 * request goes without a name, and no lines are sent. A dropped event stream only stops the
 * bar, never the transfer.
 *
 * @example
 * ```ts
 * const summary = await withDaemonProgress(daemon, bar, (transfer) => daemon.push({ path, transfer }));
 * ```
 */
export async function withDaemonProgress<T>(
  daemon: ControlClient,
  bar: ProgressBar,
  run: (transfer?: string) => Promise<T>,
): Promise<T> {
  if (!bar.active) return await run();
  const transfer = crypto.randomUUID();
  const stop = new AbortController();
  const subscribed = Promise.withResolvers<void>();
  const watching = (async () => {
    for await (const line of daemon.events(stop.signal)) {
      subscribed.resolve();
      if (line.kind === "progress" && line.transfer === transfer) {
        bar.update({
          filesDone: line.files_done,
          filesTotal: line.files_total,
          bytesDone: line.bytes_done,
          bytesTotal: line.bytes_total,
        });
      }
    }
  })().catch(() => {}).finally(() => subscribed.resolve());
  // Lines sent before the subscription would be missed.
  await subscribed.promise;
  try {
    return await run(transfer);
  } finally {
    stop.abort();
    await watching;
    bar.done();
  }
}

function siteOf(
  site: { daemon?: ControlClient & Disposable; lock?: WriterLock },
): WorkSite {
  return {
    ...site,
    [Symbol.dispose]: () => {
      site.daemon?.[Symbol.dispose]();
      site.lock?.release();
    },
  };
}

async function askDaemon(runtime: CliRuntime): Promise<SocketAnswer | undefined> {
  if (Deno.env.get("TCFS_NO_DAEMON")) return undefined;
  const socket = runtime.config.daemon.socket;
  if (!await daemonAvailable(socket)) return undefined;
  const client = createControlClient(socket);
  let identity: IdentityResponse;
  try {
    identity = await client.identity();
  } catch (err) {
    client.close();
    // A daemon from before /v1/identity can't say whom it serves, so it serves nobody here.
    if (err instanceof TcfsError && err.kind === "not_found") {
      return { other: {}, differs: "a device it does not name (an older tcfs)" };
    }
    throw err;
  }
  const differs = await identityDiffers(runtime, identity);
  if (differs === undefined) return { serving: client };
  client.close();
  return { other: identity, differs };
}

/** What in `identity` is not this command's: `undefined` when it is all the same. */
async function identityDiffers(
  runtime: CliRuntime,
  identity: IdentityResponse,
): Promise<string | undefined> {
  const { config } = runtime;
  const device = await runtime.device();
  if (identity.device.id !== device.id) {
    return `device ${identity.device.name} (${identity.device.id})`;
  }
  if (identity.namespace !== config.sync.namespace) return `namespace ${identity.namespace}`;
  const store = configuredStore(config, await runtime.credentials());
  const location = store.location;
  store.close();
  if (identity.store.location !== location || identity.store.bucket !== config.storage.bucket) {
    return `store ${identity.store.location} (bucket ${identity.store.bucket})`;
  }
  return undefined;
}

function noteOtherDaemon(config: TcfsConfig, differs: string): void {
  console.error(
    `tcfs: the daemon on ${config.daemon.socket} serves ${differs}, not this one: working without it`,
  );
}
