/**
 * Live sync through the loss of a NATS node, with real daemons: a 3-node JetStream cluster,
 * device A connected first to the node holding the state stream's leader, device B to another;
 * A writes files one by one while that node is killed and later restarted, and B's arrivals
 * are timed. Polling is slowed to an hour, so only events can deliver in time. Shared by
 * tests/daemon/cluster_failover_test.ts and scripts/bench/failover.ts.
 *
 * @module
 */

import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { STATE_STREAM } from "../../core/events/state_event.ts";
import { ensureStateStream } from "../../daemon/nats/state_stream.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { type NatsCluster, startNatsCluster } from "../support/nats_cluster.ts";
import { type DaemonDevice, makeDaemonDevice, readIfExists, seaweedEnv } from "./daemon_device.ts";

/** What {@linkcode runFailover} does. */
export interface FailoverOptions {
  /** Files A writes, one at a time. */
  writes: number;
  /** The wait between two writes. */
  gapMs: number;
  /** The leader's node is killed after this many writes… */
  killAfter: number;
  /** …and restarted after this many. */
  restartAfter: number;
  /** How long B may take for the last file before it counts as lost. */
  settleMs?: number;
}

/** What {@linkcode runFailover} saw. */
export interface FailoverResult {
  /** Write-to-arrival times of the files that arrived, ms, ascending. */
  latenciesMs: number[];
  /** Files that never arrived intact. */
  lost: string[];
  /** State events B's sync loop was handed more than once (by event id). */
  duplicates: number;
  /** The node killed, by server name. */
  killed: string;
  /** The server A is connected to at the end, and its reconnects. */
  aServer?: string;
  aReconnects: number;
  /** Whether the cluster healed (all nodes current under one meta leader) after the restart. */
  healed: boolean;
  /** The stream's replicas at the end, as B's status says. */
  replicas?: number;
  /** Both daemons' logs, read before their folders are removed. */
  logs: string;
}

/**
 * Runs the scenario on a fresh cluster and two fresh devices, and cleans up after.
 *
 * @example
 * ```ts
 * const result = await runFailover({ writes: 100, gapMs: 200, killAfter: 30, restartAfter: 70 });
 * ```
 */
export async function runFailover(options: FailoverOptions): Promise<FailoverResult> {
  const tmp = await makeScopedTempDir("tcfs-failover-");
  await using cluster = await startNatsCluster();
  const leader = await makeStream(cluster);
  const leaderNode = cluster.node(leader);
  const others = cluster.nodes.filter((node) => node !== leaderNode);
  const env = { ...seaweedEnv("failover"), TCFS_POLL_INTERVAL_SECS: "3600" };
  const a = await makeDaemonDevice(tmp.path, "devA", {
    ...env,
    TCFS_NATS_URL: [leaderNode, ...others].map((node) => node.url).join(","),
  });
  const b = await makeDaemonDevice(tmp.path, "devB", {
    ...env,
    TCFS_NATS_URL: [...others, leaderNode].map((node) => node.url).join(","),
  });
  const devices = [a, b];
  // A debounce shorter than the gap between writes, so each write is pushed on its own: with
  // the default (300 ms) a write every 200 ms never lets the tree settle, and pushes wait for
  // the batch's 3 s cap. It is a config setting (no environment variable overrides it).
  const debounceMs = Math.min(300, Math.floor(options.gapMs / 2));
  for (const device of devices) await device.writeConfig(`[sync]\ndebounce_ms = ${debounceMs}\n`);
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  try {
    for (const device of devices) await device.start();
    for (const device of devices) await untilConnected(device);
    const received = await b.recordEvents();
    const writtenAt = new Map<string, number>();
    const arrivedAt = new Map<string, number>();
    const watcher = Deno.watchFs(b.root);
    const watching = (async () => {
      for await (const event of watcher) {
        for (const path of event.paths) {
          const name = path.slice(b.root.length + 1);
          if (!writtenAt.has(name) || arrivedAt.has(name)) continue;
          // Restores rename a complete, verified temp file into place: seen means complete.
          if ((await readIfExists(path)) !== undefined) arrivedAt.set(name, performance.now());
        }
      }
    })();
    for (let i = 1; i <= options.writes; i++) {
      const name = `write-${String(i).padStart(3, "0")}.txt`;
      writtenAt.set(name, performance.now());
      await Deno.writeTextFile(join(a.root, name), `write ${i}\n`);
      if (i === options.killAfter) await leaderNode.kill();
      if (i === options.restartAfter) await leaderNode.restart();
      await sleep(options.gapMs);
    }
    const deadline = performance.now() + (options.settleMs ?? 15_000);
    while (arrivedAt.size < writtenAt.size && performance.now() < deadline) await sleep(50);
    watcher.close();
    await watching;
    await received.stop();
    const lost: string[] = [];
    for (const [name] of writtenAt) {
      const text = await readIfExists(join(b.root, name));
      const want = `write ${Number(name.slice(6, 9))}\n`;
      if (!text || new TextDecoder().decode(text) !== want) lost.push(name);
    }
    const handed = new Map<string, number>();
    for (const line of received.lines) {
      if (line.kind !== "state_event" || line.direction !== "received") continue;
      handed.set(line.event.id, (handed.get(line.event.id) ?? 0) + 1);
    }
    const healed = await cluster.waitUntilHealed().then(() => true, () => false);
    const [aStatus, bStatus] = await Promise.all([a.status(), b.status()]);
    return {
      latenciesMs: [...arrivedAt].map(([name, at]) => at - writtenAt.get(name)!)
        .sort((x, y) => x - y),
      lost,
      duplicates: [...handed.values()].filter((count) => count > 1).length,
      killed: leader,
      aServer: aStatus.nats.server,
      aReconnects: aStatus.nats.reconnects,
      healed,
      replicas: bStatus.nats.stream?.replicas,
      logs: await logs(),
    };
  } finally {
    for (const device of devices) if (device.running) await device.stop();
    await tmp.remove();
  }
}

/**
 * The value at quantile `q` (0 to 1) of ascending `values`.
 *
 * @example
 * ```ts
 * quantile([1, 2, 3, 4], 0.5); // 2
 * ```
 */
export function quantile(values: number[], q: number): number {
  return values[Math.max(0, Math.min(values.length - 1, Math.ceil(q * values.length) - 1))];
}

/** Makes the stream as a daemon would (3 replicas) and returns the server holding its leader. */
async function makeStream(cluster: NatsCluster): Promise<string> {
  const nc = await connect({ servers: cluster.nodes.map((node) => node.url) });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStateStream(jsm, 3, () => {});
    for (let attempt = 0;; attempt++) {
      const leader = (await jsm.streams.info(STATE_STREAM)).cluster?.leader;
      if (leader) return leader;
      if (attempt === 50) throw new Error(`${STATE_STREAM} has no leader`);
      await sleep(100);
    }
  } finally {
    await nc.close();
  }
}

async function untilConnected(device: DaemonDevice): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await device.status()).nats.state !== "connected") {
    if (Date.now() > deadline) throw new Error(`${device.name} never connected to NATS`);
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
