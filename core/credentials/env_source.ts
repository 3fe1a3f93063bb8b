/**
 * Credentials from environment variables: the first rank of the chain.
 *
 * @module
 */

import { type CredentialValues, s3KeyPair, type SourceReading } from "./credential_values.ts";

/** The variable pairs that may hold an S3 key pair, in the order they are consulted. */
export const ENV_KEY_PAIRS = [
  { access: "TCFS_S3_ACCESS", secret: "TCFS_S3_SECRET" },
  { access: "AWS_ACCESS_KEY_ID", secret: "AWS_SECRET_ACCESS_KEY" },
] as const;

/** The variables naming the S3 endpoint and the NATS URL. */
export const ENV_SERVICE_URLS = {
  s3Endpoint: "TCFS_S3_ENDPOINT",
  natsUrl: "TCFS_NATS_URL",
} as const;

/**
 * Reads one key pair from `env`. Throws a `TcfsError` when only half of the
 * pair is set. (The endpoint and NATS URL variables are read by
 * {@linkcode envServiceUrls}, since they apply whichever source has the keys.)
 *
 * @example
 * ```ts
 * const reading = readEnvCredentials(Deno.env.toObject(), ENV_KEY_PAIRS[0]);
 * if (reading.found) console.log("keys from TCFS_S3_ACCESS/TCFS_S3_SECRET");
 * ```
 */
export function readEnvCredentials(
  env: Record<string, string | undefined>,
  pair: typeof ENV_KEY_PAIRS[number],
): SourceReading {
  const s3 = s3KeyPair(
    { name: pair.access, value: env[pair.access] },
    { name: pair.secret, value: env[pair.secret] },
  );
  if (s3 === undefined) return { found: false, reason: `${pair.access} is not set` };
  return { found: true, values: { s3 } };
}

/**
 * The S3 endpoint and NATS URL set in `env`, if any (empty counts as unset).
 *
 * @example
 * ```ts
 * envServiceUrls({ TCFS_NATS_URL: "nats://127.0.0.1:4222" }); // { natsUrl: "nats://127.0.0.1:4222" }
 * ```
 */
export function envServiceUrls(
  env: Record<string, string | undefined>,
): Omit<CredentialValues, "s3"> {
  const urls: Omit<CredentialValues, "s3"> = {};
  const s3Endpoint = env[ENV_SERVICE_URLS.s3Endpoint];
  const natsUrl = env[ENV_SERVICE_URLS.natsUrl];
  if (s3Endpoint) urls.s3Endpoint = s3Endpoint;
  if (natsUrl) urls.natsUrl = natsUrl;
  return urls;
}

/** Variables that are secrets themselves, beside the S3 secret keys of {@linkcode ENV_KEY_PAIRS}. */
const SECRET_VARIABLES = ["TCFS_KDBX_PASSWORD", "SOPS_AGE_KEY"];

/**
 * The variables of `env` that hold secrets: S3 secret keys, passwords, age identities,
 * and a NATS URL with credentials in it. A file setting any of them must be private.
 *
 * @example
 * ```ts
 * envSecretNames({ TCFS_S3_SECRET: "…", TCFS_NAMESPACE: "lab" }); // ["TCFS_S3_SECRET"]
 * ```
 */
export function envSecretNames(env: Record<string, string | undefined>): string[] {
  const names = [...ENV_KEY_PAIRS.map((pair) => pair.secret), ...SECRET_VARIABLES];
  const secret = names.filter((name) => env[name]);
  if (env[ENV_SERVICE_URLS.natsUrl]?.includes("@")) secret.push(ENV_SERVICE_URLS.natsUrl);
  return secret;
}
