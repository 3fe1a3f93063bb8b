/**
 * A private 3-node nats-server JetStream cluster for one test, on free loopback ports: each
 * node a {@linkcode NatsServer} with its own store, cluster port and routes to the others.
 *
 * @module
 */

import { freePorts } from "./free_port.ts";
import { type NatsServer, startNatsServer } from "./nats_process.ts";

/** A running cluster; see {@linkcode startNatsCluster}. */
export interface NatsCluster extends AsyncDisposable {
  /** The nodes, in the order of {@linkcode NatsCluster.urls}. */
  readonly nodes: readonly NatsServer[];
  /** Every node's client URL, comma-separated, as `[sync] nats_url` takes them. */
  readonly urls: string;
  /** The cluster's name (`cluster { name }`). */
  readonly name: string;
  /** The node whose `server_name` is `serverName`. */
  node(serverName: string): NatsServer;
  /**
   * Waits until every running node sees the same JetStream meta leader with all its peers
   * current, i.e. until the cluster can create and place streams again.
   */
  waitUntilHealed(timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes their stores. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a node's `/jsz` says about the JetStream meta group. */
interface MetaCluster {
  leader?: string;
  cluster_size?: number;
  replicas?: { name: string; current: boolean; offline?: boolean }[];
}

const HEAL_TIMEOUT_MS = 30_000;

/**
 * Starts `size` (default 3) nats-server nodes routed to each other as one JetStream cluster, and
 * waits until it has a meta leader.
 *
 * @example
 * ```ts
 * await using cluster = await startNatsCluster();
 * const nc = await connect({ servers: cluster.nodes.map((node) => node.url) });
 * await cluster.nodes[0].kill();
 * ```
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const routePorts = freePorts(size);
  const name = `tcfs-test-${routePorts[0]}`;
  const routes = routePorts.map((port) => `"nats-route://127.0.0.1:${port}"`).join(", ");
  const nodes: NatsServer[] = [];
  try {
    // Started together: a node waits for its routes to come up before JetStream is ready.
    const started = await Promise.allSettled(routePorts.map((port) =>
      startNatsServer({
        config: `cluster { name: ${JSON.stringify(name)}, listen: "127.0.0.1:${port}", ` +
          `routes: [${routes}] }`,
      })
    ));
    for (const result of started) if (result.status === "fulfilled") nodes.push(result.value);
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (error) {
    await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
    throw error;
  }

  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((node) => node.url).join(","),
    name,
    node(serverName) {
      const found = nodes.find((node) => node.serverName === serverName);
      if (!found) throw new Error(`no node of cluster ${name} is named ${serverName}`);
      return found;
    },
    async waitUntilHealed(timeoutMs = HEAL_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      let seen = "";
      while (Date.now() < deadline) {
        const metas = await Promise.all(nodes.map((node) => metaCluster(node.monitorUrl)));
        seen = JSON.stringify(metas);
        const leader = metas[0]?.leader;
        // Only the leader lists its followers.
        const followers = metas[nodes.findIndex((node) => node.serverName === leader)]?.replicas;
        const healed = leader !== undefined && leader !== "" &&
          metas.every((meta) => meta?.leader === leader) &&
          followers?.length === size - 1 &&
          followers.every((peer) => peer.current && !peer.offline);
        if (healed) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`the NATS cluster ${name} did not heal in ${timeoutMs / 1000} s: ${seen}`);
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(nodes.map((node) => node[Symbol.asyncDispose]()));
    },
  };
  try {
    await cluster.waitUntilHealed();
  } catch (error) {
    await cluster[Symbol.asyncDispose]();
    throw error;
  }
  return cluster;
}

async function metaCluster(monitorUrl: string): Promise<MetaCluster | undefined> {
  try {
    const response = await fetch(`${monitorUrl}/jsz`);
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return ((await response.json()) as { meta_cluster?: MetaCluster }).meta_cluster;
  } catch {
    return undefined;
  }
}
