/**
 * A private SeaweedFS for one test: its own ports, data dir and S3 identities, so the test can
 * stop it, restart it or rotate its credentials without disturbing anyone else. Tests that just
 * need a store use the shared one from `servicesEnv()` (services_env.ts) instead.
 *
 * @module
 */

import { freePorts } from "./free_port.ts";
import { makeScopedTempDir } from "./module_unload.ts";
import { type ServiceProcess, spawnService } from "./service_process.ts";

/** An S3 access key and its secret. */
export interface S3Identity {
  access: string;
  secret: string;
}

/** Options for {@linkcode startSeaweedFS}. */
export interface SeaweedFSOptions {
  /** Identities allowed in, each with admin rights; default: one random identity. */
  identities?: S3Identity[];
  /** Bucket created at start; default `tcfs`. */
  bucket?: string;
  /** Where SeaweedFS keeps its data; default: a temp dir that goes with the instance. */
  dataDir?: string;
}

/** Options for {@linkcode SeaweedFS.restart}. */
export interface SeaweedFSRestartOptions {
  /** Replaces the identities SeaweedFS accepts (credential rotation). */
  identities?: S3Identity[];
}

/** A running private SeaweedFS; see {@linkcode startSeaweedFS}. */
export interface SeaweedFS extends AsyncDisposable {
  /** S3 endpoint, e.g. `http://127.0.0.1:12345`; stays the same across restarts. */
  readonly endpoint: string;
  /** Access key of the first current identity. */
  readonly access: string;
  /** Secret of the first current identity. */
  readonly secret: string;
  readonly bucket: string;
  readonly dataDir: string;
  /** SeaweedFS's output, across restarts. */
  readonly logPath: string;
  /**
   * Kills SeaweedFS, like a crash; its ports are free when this resolves. The data stays for
   * {@linkcode SeaweedFS.restart}, and goes on dispose or when the test module unloads.
   */
  stop(): Promise<void>;
  /** Stops SeaweedFS if it runs and starts it again on the same ports and data. */
  restart(options?: SeaweedFSRestartOptions): Promise<void>;
  /** Stops SeaweedFS and deletes what {@linkcode startSeaweedFS} created. */
  [Symbol.asyncDispose](): Promise<void>;
}

const REGION = "us-east-1";
const RUN_SCRIPT = new URL("../../scripts/seaweedfs/run.sh", import.meta.url).pathname;
// scripts/seaweedfs/run.sh puts each gRPC port at its HTTP port + 10000.
const GRPC_PORT_OFFSET = 10_000;

/**
 * Starts SeaweedFS on free loopback ports and waits until its S3 API serves the bucket.
 *
 * @example
 * ```ts
 * await using seaweedfs = await startSeaweedFS();
 * const s3 = new S3Client({
 *   endpoint: seaweedfs.endpoint,
 *   region: "us-east-1",
 *   forcePathStyle: true,
 *   credentials: { accessKeyId: seaweedfs.access, secretAccessKey: seaweedfs.secret },
 * });
 * ```
 */
export async function startSeaweedFS(options: SeaweedFSOptions = {}): Promise<SeaweedFS> {
  const root = await makeScopedTempDir("tcfs-test-seaweedfs-");
  const dataDir = options.dataDir ?? `${root.path}/data`;
  const configPath = `${root.path}/s3.json`;
  const logPath = `${root.path}/weed.log`;
  const bucket = options.bucket ?? "tcfs";
  // In the order scripts/seaweedfs/run.sh takes them: S3, master, volume, filer, admin.
  const ports = freePorts(5, { companionOffset: GRPC_PORT_OFFSET });
  const endpoint = `http://127.0.0.1:${ports[0]}`;
  let identities = options.identities ?? [randomIdentity()];
  let weed: ServiceProcess | undefined;

  async function start(): Promise<void> {
    await writeS3Config(configPath, identities);
    weed = await spawnService({
      name: "SeaweedFS",
      command: RUN_SCRIPT,
      args: [dataDir, configPath, ...ports.map(String)],
      logPath,
    });
    await createBucketWhenAnswering(weed, endpoint, bucket, identities[0]);
  }

  async function stop(): Promise<void> {
    await weed?.stop();
  }

  try {
    await start();
  } catch (error) {
    await stop();
    await root.remove();
    throw error;
  }

  return {
    endpoint,
    get access() {
      return identities[0].access;
    },
    get secret() {
      return identities[0].secret;
    },
    bucket,
    dataDir,
    logPath,
    stop,
    async restart(restartOptions = {}) {
      await stop();
      identities = restartOptions.identities ?? identities;
      await start();
    },
    async [Symbol.asyncDispose]() {
      await stop();
      await root.remove();
    },
  };
}

/**
 * A fresh identity with a random access key and secret.
 *
 * @example
 * ```ts
 * const { access, secret } = randomIdentity();
 * ```
 */
export function randomIdentity(): S3Identity {
  return { access: `tcfs-test-${randomHex(6)}`, secret: randomHex(20) };
}

/**
 * Waits until the S3 API at `endpoint`, served by `gateway`, answers; then creates `bucket` (or
 * finds it from before a restart) and waits until it takes requests.
 *
 * @example
 * ```ts
 * await createBucketWhenAnswering(weed, "http://127.0.0.1:8333", "tcfs", identity);
 * ```
 */
export async function createBucketWhenAnswering(
  gateway: ServiceProcess,
  endpoint: string,
  bucket: string,
  identity: S3Identity,
): Promise<void> {
  await gateway.waitUntilAnswering(async () =>
    await s3Status("GET", `${endpoint}/`, identity) === 200
  );
  const created = await s3Status("PUT", `${endpoint}/${bucket}`, identity);
  // 409 BucketAlreadyOwnedByYou: a restart finds the bucket from before.
  if (created !== 200 && created !== 409) {
    throw new Error(`creating bucket ${bucket} at ${endpoint} failed with HTTP ${created}`);
  }
  await gateway.waitUntilAnswering(async () =>
    await s3Status("HEAD", `${endpoint}/${bucket}`, identity) === 200
  );
}

function randomHex(bytes: number): string {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (value) => value.toString(16).padStart(2, "0")).join("");
}

/**
 * Writes the `-s3.config` identities JSON that lets `identities` in with admin rights.
 *
 * @example
 * ```ts
 * await writeS3Config("/tmp/s3.json", [randomIdentity()]);
 * ```
 */
export async function writeS3Config(path: string, identities: S3Identity[]): Promise<void> {
  if (identities.length === 0) throw new Error("startSeaweedFS needs at least one identity");
  const config = {
    identities: identities.map(({ access, secret }, index) => ({
      name: `tcfs-test-${index}`,
      credentials: [{ accessKey: access, secretKey: secret }],
      actions: ["Admin", "Read", "List", "Tagging", "Write"],
    })),
  };
  await Deno.writeTextFile(path, JSON.stringify(config), { mode: 0o600 });
}

/**
 * A SigV4-signed request by curl, exactly as scripts/services.sh checks readiness; returns the
 * HTTP status, or 0 when nothing answers. The credentials go in on stdin, never in argv.
 *
 * @example
 * ```ts
 * const status = await s3Status("HEAD", "http://127.0.0.1:8333/tcfs", randomIdentity());
 * ```
 */
export async function s3Status(method: string, url: string, identity: S3Identity): Promise<number> {
  const curl = new Deno.Command("curl", {
    args: [
      "--silent",
      "--output",
      "/dev/null",
      "--write-out",
      "%{http_code}",
      "--max-time",
      "5",
      "--config",
      "-",
      "--aws-sigv4",
      `aws:amz:${REGION}:s3`,
      ...(method === "HEAD" ? ["--head"] : ["--request", method]),
      url,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = curl.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`user = "${identity.access}:${identity.secret}"\n`));
  await writer.close();
  const { stdout } = await curl.output();
  return Number(new TextDecoder().decode(stdout)) || 0;
}
