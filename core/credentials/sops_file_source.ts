/**
 * Credentials from the SOPS file (`~/.config/tcfs/secrets.yaml`), decrypted
 * in-process with the host's age identities.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { findAgeIdentities } from "./age_identities.ts";
import { s3KeyPair, type SourceReading } from "./credential_values.ts";
import { describeReadError } from "./read_error.ts";
import { decryptSopsFile, type SopsMap } from "./sops_decrypt.ts";

/**
 * Decrypts the SOPS file at `path` and takes its top-level `s3_access`,
 * `s3_secret`, `s3_endpoint` and `nats_url`; other keys are ignored. A missing
 * file is skipped; one that cannot be decrypted throws the `TcfsError` from
 * {@linkcode decryptSopsFile}.
 *
 * @example
 * ```ts
 * const env = Deno.env.toObject();
 * const reading = await readSopsFileCredentials(`${env.HOME}/.config/tcfs/secrets.yaml`, env);
 * ```
 */
export async function readSopsFileCredentials(
  path: string,
  env: Record<string, string | undefined>,
): Promise<SourceReading> {
  try {
    await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { found: false, reason: "not found" };
    throw new TcfsError(`SOPS file ${path}: ${describeReadError(err)}`, {
      kind: "sops-unreadable",
      cause: err,
    });
  }
  const data = await decryptSopsFile(path, await findAgeIdentities(env));
  const field = (name: string) => stringField(data, name, path);
  const s3 = s3KeyPair(
    { name: `s3_access in ${path}`, value: field("s3_access") },
    { name: `s3_secret in ${path}`, value: field("s3_secret") },
  );
  const s3Endpoint = field("s3_endpoint");
  const natsUrl = field("nats_url");
  return {
    found: true,
    values: {
      ...(s3 && { s3 }),
      ...(s3Endpoint && { s3Endpoint }),
      ...(natsUrl && { natsUrl }),
    },
  };
}

/** A scalar field as text (an all-digit access key decrypts as an int). */
function stringField(data: SopsMap, name: string, path: string): string | undefined {
  const value = data[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object") {
    throw new TcfsError(`SOPS file ${path}: ${name} must be a single value, not a map or list`, {
      kind: "sops-wrong-shape",
      hint: `edit it with \`sops edit ${path}\``,
    });
  }
  return String(value);
}
