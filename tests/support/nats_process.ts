/**
 * A private nats-server with JetStream for one test, on free loopback ports, configured through
 * a config file so tests can add hub/leaf topologies (`leafnodes { … }`) or accounts.
 *
 * @module
 */

import { freePorts } from "./free_port.ts";
import { makeScopedTempDir } from "./module_unload.ts";
import { type ServiceProcess, spawnService } from "./service_process.ts";

/** Options for {@linkcode startNatsServer}. */
export interface NatsServerOptions {
  /**
   * Extra nats-server config text appended to the generated file, e.g.
   * `leafnodes { listen: "127.0.0.1:7422" }`. Keys given here win over the generated ones.
   */
  config?: string;
  /** JetStream domain, for hub/leaf setups. */
  jetstreamDomain?: string;
  /** JetStream store; default: a temp dir that goes with the server. */
  storeDir?: string;
}

/** A running private nats-server; see {@linkcode startNatsServer}. */
export interface NatsServer extends AsyncDisposable {
  /** Client URL, e.g. `nats://127.0.0.1:12345`; stays the same across restarts. */
  readonly url: string;
  readonly port: number;
  /** HTTP monitoring base URL (`/healthz`, `/jsz`, `/leafz`…). */
  readonly monitorUrl: string;
  /** Unique per server, as leaf and cluster setups require. */
  readonly serverName: string;
  readonly storeDir: string;
  readonly configPath: string;
  /** nats-server's output, across restarts. */
  readonly logPath: string;
  /**
   * Stops the server (SIGTERM). The JetStream store stays for {@linkcode NatsServer.restart}, and
   * goes on dispose or when the test module unloads.
   */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL), as a crash or a power loss would; the store stays as for stop. */
  kill(): Promise<void>;
  /** Stops the server if it runs and starts it again with the same ports, config and store. */
  restart(): Promise<void>;
  /** Stops the server and deletes what {@linkcode startNatsServer} created. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts nats-server with JetStream on free loopback ports and waits until JetStream is healthy.
 *
 * @example
 * ```ts
 * await using hub = await startNatsServer({
 *   jetstreamDomain: "hub",
 *   config: `leafnodes { listen: "127.0.0.1:${leafPort}" }`,
 * });
 * const nc = await connect({ servers: hub.url });
 * ```
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const root = await makeScopedTempDir("tcfs-test-nats-");
  const storeDir = options.storeDir ?? `${root.path}/jetstream`;
  const configPath = `${root.path}/nats.conf`;
  const logPath = `${root.path}/nats.log`;
  const [port, monitorPort] = freePorts(2);
  const serverName = `tcfs-test-${port}`;
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  const domain = options.jetstreamDomain
    ? `, domain: ${JSON.stringify(options.jetstreamDomain)}`
    : "";
  await Deno.writeTextFile(
    configPath,
    [
      `server_name: ${JSON.stringify(serverName)}`,
      `listen: "127.0.0.1:${port}"`,
      `http: "127.0.0.1:${monitorPort}"`,
      `jetstream { store_dir: ${JSON.stringify(storeDir)}${domain} }`,
      options.config ?? "",
    ].join("\n") + "\n",
  );
  let server: ServiceProcess | undefined;

  async function start(): Promise<void> {
    server = await spawnService({
      name: "nats-server",
      command: "nats-server",
      args: ["--config", configPath],
      logPath,
    });
    await server.waitUntilAnswering(() => jetStreamHealthy(monitorUrl));
  }

  async function stop(): Promise<void> {
    await server?.stop();
  }

  async function kill(): Promise<void> {
    if (server && !server.exited) Deno.kill(server.pid, "SIGKILL");
    await stop();
  }

  try {
    await start();
  } catch (error) {
    await stop();
    await root.remove();
    throw error;
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl,
    serverName,
    storeDir,
    configPath,
    logPath,
    stop,
    kill,
    async restart() {
      await stop();
      await start();
    },
    async [Symbol.asyncDispose]() {
      await stop();
      await root.remove();
    },
  };
}

async function jetStreamHealthy(monitorUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${monitorUrl}/healthz?js-enabled-only=true`);
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
