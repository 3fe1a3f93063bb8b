/**
 * What a credential source supplies, and the shape every source reports in.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { Secret } from "./secret_redaction.ts";

/** An S3 key pair. Both halves are {@linkcode Secret}s: they never print. */
export interface S3Credentials {
  accessKeyId: Secret;
  secretAccessKey: Secret;
}

/** The values one source holds; any of them may be absent. */
export interface CredentialValues {
  s3?: S3Credentials;
  s3Endpoint?: string;
  natsUrl?: string;
}

/** The result of reading one source: its values, or why it has none. Failures are thrown. */
export type SourceReading =
  | { found: true; values: CredentialValues }
  | { found: false; reason: string };

/**
 * Pairs an access key with its secret. Both absent gives `undefined`; only one
 * present is an error naming both (never their values), since half a key pair
 * is always a mistake.
 *
 * @example
 * ```ts
 * const s3 = s3KeyPair(
 *   { name: "TCFS_S3_ACCESS", value: Deno.env.get("TCFS_S3_ACCESS") },
 *   { name: "TCFS_S3_SECRET", value: Deno.env.get("TCFS_S3_SECRET") },
 * );
 * ```
 */
export function s3KeyPair(
  access: { name: string; value?: string },
  secret: { name: string; value?: string },
): S3Credentials | undefined {
  const hasAccess = access.value !== undefined && access.value !== "";
  const hasSecret = secret.value !== undefined && secret.value !== "";
  if (!hasAccess && !hasSecret) return undefined;
  if (!hasAccess || !hasSecret) {
    const [present, missing] = hasAccess ? [access, secret] : [secret, access];
    throw new TcfsError(`${present.name} is set but ${missing.name} is not`, {
      kind: "credentials-incomplete",
      hint: `set ${missing.name} too, or remove ${present.name}`,
    });
  }
  return { accessKeyId: new Secret(access.value!), secretAccessKey: new Secret(secret.value!) };
}
