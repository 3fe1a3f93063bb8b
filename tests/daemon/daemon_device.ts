/**
 * A test device that runs the real daemon (`scripts/tcfs daemon`) in its own HOME: its own
 * config, state, identity, sync root (`<home>/Sync`), control socket (`<home>/run/tcfsd.sock`)
 * and metrics port (127.0.0.1:0). The daemon's stderr goes to `<home>/daemon.log`.
 *
 * @module
 */

import { join } from "node:path";
import { type CliResult, makeDeviceHome } from "../support/device_home.ts";
import { atModuleUnload } from "../support/module_unload.ts";
import type { ActivityLine, StatusResponse } from "../../daemon/api/api_types.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import { servicesEnv } from "../support/services_env.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** How a daemon run ended. */
export interface DaemonExit {
  code: number;
  signal: Deno.Signal | null;
  /** From the stop signal to the exit. */
  elapsedMs: number;
}

/** Activity lines collected from `GET /v1/events` until stopped. */
export interface EventRecorder {
  lines: ActivityLine[];
  stop(): Promise<void>;
}

/** A device with a daemon. */
export interface DaemonDevice {
  name: string;
  home: string;
  /** The sync root. */
  root: string;
  socket: string;
  logPath: string;
  env: Record<string, string>;
  /** Runs the CLI as this device. */
  tcfs(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Writes `~/.config/tcfs/config.toml`. */
  writeConfig(toml: string): Promise<void>;
  /** Starts the daemon and waits until its control API answers. */
  start(env?: Record<string, string>): Promise<void>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<DaemonExit>;
  /** Sends a signal without waiting. */
  signal(signal: Deno.Signal): void;
  readonly running: boolean;
  status(): Promise<StatusResponse>;
  /** Subscribes to the daemon's activity stream; resolves once subscribed. */
  recordEvents(): Promise<EventRecorder>;
  log(): Promise<string>;
}

/**
 * Makes a device under `parent` sharing the store (and NATS) that `env` describes.
 *
 * @example
 * ```ts
 * const a = await makeDaemonDevice(tmp, "devA", { TCFS_S3_ENDPOINT: `file://${tmp}/store` });
 * await a.start();
 * await Deno.writeTextFile(join(a.root, "x.txt"), "x");
 * ```
 */
export async function makeDaemonDevice(
  parent: string,
  name: string,
  env: Record<string, string>,
): Promise<DaemonDevice> {
  const home = join(parent, name);
  const root = join(home, "Sync");
  const socket = join(home, "run", "tcfsd.sock");
  const logPath = join(home, "daemon.log");
  const device = await makeDeviceHome(parent, name, {
    XDG_RUNTIME_DIR: join(home, "run"),
    TCFS_SYNC_ROOT: root,
    TCFS_SOCKET: socket,
    TCFS_METRICS_ADDR: "127.0.0.1:0",
    ...env,
  });
  await Deno.mkdir(root, { recursive: true });
  let child: Deno.ChildProcess | undefined;
  let exited: Promise<Deno.CommandStatus> | undefined;
  let running = false;

  const self: DaemonDevice = {
    name,
    home,
    root,
    socket,
    logPath,
    env: device.env,
    tcfs: (args, extra) => device.tcfs(args, { env: extra }),
    async writeConfig(toml) {
      await Deno.mkdir(join(home, ".config", "tcfs"), { recursive: true });
      await Deno.writeTextFile(join(home, ".config", "tcfs", "config.toml"), toml, { mode: 0o600 });
    },
    async start(extra = {}) {
      // The daemon writes its log straight into the file (through exec, so the pid is the
      // daemon's own and signals reach it), readable at any moment.
      child = new Deno.Command("bash", {
        args: [
          "-c",
          'exec "$0" daemon --log-level debug 2>>"$1"',
          join(REPO, "scripts/tcfs"),
          logPath,
        ],
        env: { ...device.env, ...extra },
        clearEnv: true,
        cwd: home,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const pid = child.pid;
      const cancelKill = atModuleUnload(() => Deno.kill(pid, "SIGKILL"));
      running = true;
      exited = child.status.then((status) => {
        running = false;
        cancelKill();
        return status;
      });
      const deadline = Date.now() + 60_000;
      while (true) {
        if (!running) {
          throw new Error(`${name}'s daemon exited during start-up:\n${await self.log()}`);
        }
        try {
          await self.status();
          return;
        } catch {
          if (Date.now() > deadline) {
            throw new Error(`${name}'s daemon did not answer in 60 s:\n${await self.log()}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    async stop(signal = "SIGTERM") {
      if (!child || !exited) throw new Error(`${name}'s daemon was never started`);
      const started = performance.now();
      if (running) child.kill(signal);
      const status = await exited;
      return {
        code: status.code,
        signal: status.signal,
        elapsedMs: performance.now() - started,
      };
    },
    signal(signal) {
      child?.kill(signal);
    },
    get running() {
      return running;
    },
    async status() {
      using client = createControlClient(socket);
      return await client.status();
    },
    async recordEvents() {
      const client = createControlClient(socket);
      const abort = new AbortController();
      const lines: ActivityLine[] = [];
      const subscribed = Promise.withResolvers<void>();
      const reading = (async () => {
        try {
          for await (const line of client.events(abort.signal)) {
            if (line.kind === "subscribed") subscribed.resolve();
            lines.push(line);
          }
        } catch (err) {
          if (!abort.signal.aborted) subscribed.reject(err);
        }
      })();
      await subscribed.promise;
      return {
        lines,
        async stop() {
          abort.abort();
          await reading;
          client.close();
        },
      };
    },
    log: () => Deno.readTextFile(logPath).catch(() => ""),
  };
  return self;
}

/**
 * The environment that points devices at the shared SeaweedFS, in a namespace of their own
 * (`<prefix>-<random>`), so tests never see each other's files.
 *
 * @example
 * ```ts
 * const env = { ...seaweedEnv("crash"), TCFS_NATS_URL: nats.url };
 * ```
 */
export function seaweedEnv(prefix: string): Record<string, string> {
  const s = servicesEnv();
  return {
    TCFS_S3_ENDPOINT: s.s3Endpoint,
    TCFS_S3_ACCESS: s.s3Access,
    TCFS_S3_SECRET: s.s3Secret,
    TCFS_S3_BUCKET: s.s3Bucket,
    TCFS_NAMESPACE: `${prefix}-${crypto.randomUUID().slice(0, 8)}`,
  };
}

/**
 * Polls `check` every 100 ms until it returns true; fails with `describe()` after `timeoutMs`.
 *
 * @example
 * ```ts
 * await waitFor(() => exists(join(b.root, "x.txt")), 10_000, () => "x.txt never arrived");
 * ```
 */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  describe: () => string | Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(await describe());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Whether `device`'s sync root has no change waiting and finished a sync after `since` (ms since
 * the epoch): a change saved before `since` is then in the store.
 *
 * @example
 * ```ts
 * const edited = Date.now();
 * await Deno.writeTextFile(join(a.root, "notes.txt"), "edited on A\n");
 * await waitFor(() => syncedSince(a, edited), 20_000, logs);
 * ```
 */
export async function syncedSince(device: DaemonDevice, since: number): Promise<boolean> {
  const root = (await device.status()).sync.roots[0];
  return root?.pending_changes === 0 && Date.parse(root.last_sync_at ?? "") > since;
}

/**
 * The bytes of a file, or `undefined` when it does not exist.
 *
 * @example
 * ```ts
 * await readIfExists(join(b.root, "x.txt"));
 * ```
 */
export async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * The `.tcfs-tmp-` files left anywhere below `root`.
 *
 * @example
 * ```ts
 * assert.deepEqual(await tempLeftovers(b.root), []);
 * ```
 */
export async function tempLeftovers(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await visit(path);
      else if (entry.name.includes(".tcfs-tmp-")) found.push(path);
    }
  };
  await visit(root);
  return found;
}
