/**
 * A private multi-node SeaweedFS for one test: one master, one filer, several volume servers
 * and the S3 gateway, each its own process on free loopback ports, with replication. A test
 * kills and restarts single volume servers to see what a node loss does to tcfs. The single
 * `weed server` of seaweedfs_process.ts is the one to use when the layout does not matter.
 *
 * @module
 */

import { createS3Store } from "../../core/store/s3_store.ts";
import { freePorts } from "./free_port.ts";
import { makeScopedTempDir } from "./module_unload.ts";
import {
  createBucketWhenAnswering,
  randomIdentity,
  type S3Identity,
  writeS3Config,
} from "./seaweedfs_process.ts";
import { type ServiceProcess, spawnService } from "./service_process.ts";

/** Options for {@linkcode startSeaweedFSCluster}. */
export interface SeaweedFSClusterOptions {
  /** Volume servers, all in one rack; default 3. */
  volumeServers?: number;
  /**
   * The master's `-defaultReplication`; default `001` (one more copy on another server of the
   * same rack), `000` for none.
   */
  replication?: string;
  /** Bucket created at start; default `tcfs`. */
  bucket?: string;
}

/** One volume server of a {@linkcode SeaweedFSCluster}. */
export interface VolumeServer {
  readonly index: number;
  /** `127.0.0.1:PORT`, as the master's lookups name it. */
  readonly address: string;
  readonly logPath: string;
  /** False between {@linkcode SeaweedFSCluster.killVolumeServer} and its restart. */
  readonly running: boolean;
}

/** A running cluster; see {@linkcode startSeaweedFSCluster}. */
export interface SeaweedFSCluster extends AsyncDisposable {
  /** S3 endpoint, e.g. `http://127.0.0.1:12345`. */
  readonly endpoint: string;
  readonly access: string;
  readonly secret: string;
  readonly bucket: string;
  /** The master's HTTP base, for its status pages (`/dir/status`, `/vol/status`). */
  readonly masterUrl: string;
  /** The filer's HTTP base. */
  readonly filerUrl: string;
  readonly volumeServers: readonly VolumeServer[];
  /** Kills volume server `index` (SIGKILL, like a crash); its data stays for the restart. */
  killVolumeServer(index: number): Promise<void>;
  /** Starts volume server `index` again on its port and data, and waits until the master has it. */
  restartVolumeServer(index: number): Promise<void>;
  /**
   * The volume servers (indexes) the master lists for the volumes that hold `key`'s bytes in the
   * bucket, as the filer's metadata names them (`volumeId,fileKey` chunk ids).
   */
  volumeServersHolding(key: string): Promise<number[]>;
  /** The last lines of every node's log, for a failure message. */
  logTails(lines?: number): Promise<string>;
  /** Stops every node and deletes what {@linkcode startSeaweedFSCluster} created. */
  [Symbol.asyncDispose](): Promise<void>;
}

const RUN_NODE = new URL("../../scripts/seaweedfs/run-node.sh", import.meta.url).pathname;
// scripts/seaweedfs/run-node.sh puts each gRPC port at its HTTP port + 10000.
const GRPC_PORT_OFFSET = 10_000;
const RACK = "r1";

interface Node {
  name: string;
  args: string[];
  logPath: string;
  process?: ServiceProcess;
}

/**
 * Starts the cluster on free loopback ports and waits until an object written through S3 reads
 * back.
 *
 * @example
 * ```ts
 * await using cluster = await startSeaweedFSCluster({ volumeServers: 3, replication: "001" });
 * const [holder] = await cluster.volumeServersHolding("packs/ab/abcd");
 * await cluster.killVolumeServer(holder);
 * ```
 */
export async function startSeaweedFSCluster(
  options: SeaweedFSClusterOptions = {},
): Promise<SeaweedFSCluster> {
  const volumeCount = options.volumeServers ?? 3;
  const bucket = options.bucket ?? "tcfs";
  const root = await makeScopedTempDir("tcfs-test-seaweedfs-cluster-");
  const [masterPort, filerPort, s3Port, ...volumePorts] = freePorts(3 + volumeCount, {
    companionOffset: GRPC_PORT_OFFSET,
  });
  const identity: S3Identity = randomIdentity();
  const s3Config = `${root.path}/s3.json`;
  await writeS3Config(s3Config, [identity]);
  const masterUrl = `http://127.0.0.1:${masterPort}`;
  const filerUrl = `http://127.0.0.1:${filerPort}`;
  const endpoint = `http://127.0.0.1:${s3Port}`;
  const node = (name: string, ...args: (string | number)[]): Node => ({
    name,
    args: args.map(String),
    logPath: `${root.path}/${name}.log`,
  });
  const master = node(
    "master",
    "master",
    `${root.path}/master`,
    masterPort,
    options.replication ?? "001",
  );
  const volumes = volumePorts.map((port, index) =>
    node(`volume-${index}`, "volume", `${root.path}/volume-${index}`, port, masterPort, RACK)
  );
  const filer = node("filer", "filer", `${root.path}/filer`, filerPort, masterPort);
  const s3 = node("s3", "s3", `${root.path}/s3`, s3Port, filerPort, s3Config);
  const nodes = [master, ...volumes, filer, s3];

  async function spawn(n: Node): Promise<ServiceProcess> {
    n.process = await spawnService({
      name: `SeaweedFS ${n.name}`,
      command: RUN_NODE,
      args: n.args,
      logPath: n.logPath,
    });
    return n.process;
  }

  async function waitForVolumeServer(index: number, present: boolean): Promise<void> {
    const address = `127.0.0.1:${volumePorts[index]}`;
    await volumes[index].process!.waitUntilAnswering(async () =>
      (await masterDataNodes(masterUrl)).includes(address) === present
    );
  }

  async function stopAll(): Promise<void> {
    // The gateway first and the master last, so no node spends its end reconnecting.
    for (const n of [...nodes].reverse()) await n.process?.stop();
  }

  try {
    await (await spawn(master)).waitUntilAnswering(() => answers(`${masterUrl}/cluster/status`));
    await Promise.all(volumes.map(spawn));
    await Promise.all(volumes.map((_, index) => waitForVolumeServer(index, true)));
    await (await spawn(filer)).waitUntilAnswering(() => answers(`${filerUrl}/`));
    await createBucketWhenAnswering(await spawn(s3), endpoint, bucket, identity);
    await s3.process!.waitUntilAnswering(() => writesAndReads(endpoint, bucket, identity));
  } catch (error) {
    await stopAll();
    await root.remove();
    throw error;
  }

  const nodeTail = async (n: Node, lines: number) => {
    const text = await Deno.readTextFile(n.logPath).catch(() => "");
    return `--- ${n.name} (${n.logPath})\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`;
  };

  return {
    endpoint,
    access: identity.access,
    secret: identity.secret,
    bucket,
    masterUrl,
    filerUrl,
    volumeServers: volumes.map((v, index) => ({
      index,
      address: `127.0.0.1:${volumePorts[index]}`,
      logPath: v.logPath,
      get running() {
        return v.process !== undefined && !v.process.exited;
      },
    })),
    async killVolumeServer(index) {
      await volumes[index].process?.stop();
    },
    async restartVolumeServer(index) {
      await volumes[index].process?.stop();
      await spawn(volumes[index]);
      await waitForVolumeServer(index, true);
    },
    async volumeServersHolding(key) {
      const addresses = new Set<string>();
      for (const volumeId of await volumeIdsOf(filerUrl, bucket, key)) {
        for (const address of await volumeLocations(masterUrl, volumeId)) addresses.add(address);
      }
      return volumePorts.flatMap((port, index) =>
        addresses.has(`127.0.0.1:${port}`) ? [index] : []
      );
    },
    async logTails(lines = 20) {
      return (await Promise.all(nodes.map((n) => nodeTail(n, lines)))).join("\n");
    },
    async [Symbol.asyncDispose]() {
      await stopAll();
      await root.remove();
    },
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered HTTP ${response.status}`);
  }
  return await response.json() as T;
}

interface MasterStatus {
  Topology: { DataCenters?: { Racks?: { DataNodes?: { Url: string }[] }[] }[] };
}

/** The volume servers the master has a heartbeat from, as `ip:port`. */
async function masterDataNodes(masterUrl: string): Promise<string[]> {
  try {
    const status = await getJson<MasterStatus>(`${masterUrl}/dir/status`);
    return (status.Topology.DataCenters ?? []).flatMap((dc) =>
      (dc.Racks ?? []).flatMap((rack) => (rack.DataNodes ?? []).map((n) => n.Url))
    );
  } catch {
    return [];
  }
}

/** The volumes of an object's chunks, from the filer's metadata of `/buckets/BUCKET/KEY`. */
async function volumeIdsOf(filerUrl: string, bucket: string, key: string): Promise<number[]> {
  const path = `/buckets/${bucket}/${key}`.split("/").map(encodeURIComponent).join("/");
  const entry = await getJson<{ chunks?: { fid?: { volume_id?: number } }[] }>(
    `${filerUrl}${path}?metadata=true`,
  );
  const ids = (entry.chunks ?? []).flatMap((chunk) => chunk.fid?.volume_id ?? []);
  return [...new Set(ids)];
}

/** Where the master says volume `volumeId` lives, as `ip:port`. */
async function volumeLocations(masterUrl: string, volumeId: number): Promise<string[]> {
  const lookup = await getJson<{ locations?: { url: string }[] }>(
    `${masterUrl}/dir/lookup?volumeId=${volumeId}`,
  );
  return (lookup.locations ?? []).map((location) => location.url);
}

/** Whether an object written through S3 reads back: every node is up and joined. */
async function writesAndReads(
  endpoint: string,
  bucket: string,
  identity: S3Identity,
): Promise<boolean> {
  const store = createS3Store({
    endpoint,
    bucket,
    region: "us-east-1",
    credentials: { accessKeyId: identity.access, secretAccessKey: identity.secret },
  });
  const probe = crypto.getRandomValues(new Uint8Array(1024));
  try {
    await store.put("cluster-ready-probe", probe);
    const back = await store.get("cluster-ready-probe");
    await store.delete("cluster-ready-probe");
    return back !== undefined && back.every((byte, i) => byte === probe[i]);
  } catch {
    return false;
  } finally {
    store.close();
  }
}
