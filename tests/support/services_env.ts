/**
 * Where the shared test services (scripts/services.sh) listen, and the credentials to use.
 *
 * @module
 */

/** The shared SeaweedFS and NATS that scripts/services.sh starts. */
export interface ServicesEnv {
  s3Endpoint: string;
  s3Access: string;
  s3Secret: string;
  s3Bucket: string;
  natsUrl: string;
}

const VARIABLES = {
  s3Endpoint: "TCFS_S3_ENDPOINT",
  s3Access: "TCFS_S3_ACCESS",
  s3Secret: "TCFS_S3_SECRET",
  s3Bucket: "TCFS_S3_BUCKET",
  natsUrl: "TCFS_NATS_URL",
} as const satisfies Record<keyof ServicesEnv, string>;

const ENV_FILE = new URL("../../.tools/services.env", import.meta.url).pathname;

/**
 * Reads the services' addresses and credentials from the `TCFS_*` environment, each variable
 * falling back to `.tools/services.env`. Throws when they are not there, so integration tests
 * fail rather than skip without services.
 *
 * @example
 * ```ts
 * const { s3Endpoint, s3Bucket, natsUrl } = servicesEnv();
 * ```
 */
export function servicesEnv(): ServicesEnv {
  const file = readEnvFile(ENV_FILE);
  const values: Partial<ServicesEnv> = {};
  const missing: string[] = [];
  for (const [key, variable] of Object.entries(VARIABLES) as [keyof ServicesEnv, string][]) {
    const value = Deno.env.get(variable) || file.get(variable);
    if (value) values[key] = value;
    else missing.push(variable);
  }
  if (missing.length > 0) {
    throw new Error(
      `integration test services are not configured: ${missing.join(", ")} not set and not in ` +
        `${ENV_FILE}; run scripts/services.sh up or use scripts/test.sh`,
    );
  }
  return values as ServicesEnv;
}

/** Parses the `export NAME=value` lines services.sh writes; a missing file is empty. */
function readEnvFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return new Map();
    throw error;
  }
  const entries = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) entries.set(match[1], match[2]);
  }
  return entries;
}

/**
 * The `TCFS_*` variables that point a test device at the services SeaweedFS: endpoint,
 * credentials and bucket, plus a fresh namespace `<namespacePrefix>-<random>` when asked,
 * so tests never see each other's files.
 *
 * @example
 * ```ts
 * const a = await makeDeviceHome(tmp, "devA", servicesStoreEnv({ namespacePrefix: "rt" }));
 * ```
 */
export function servicesStoreEnv(
  options: { bucket?: string; namespacePrefix?: string } = {},
): Record<string, string> {
  const s = servicesEnv();
  const env: Record<string, string> = {
    TCFS_S3_ENDPOINT: s.s3Endpoint,
    TCFS_S3_ACCESS: s.s3Access,
    TCFS_S3_SECRET: s.s3Secret,
    TCFS_S3_BUCKET: options.bucket ?? s.s3Bucket,
  };
  if (options.namespacePrefix) {
    env.TCFS_NAMESPACE = `${options.namespacePrefix}-${crypto.randomUUID().slice(0, 8)}`;
  }
  return env;
}
