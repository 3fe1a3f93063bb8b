/**
 * Plaintext S3 keys in `config.toml`: the last rank of the chain, refused when
 * other users can read the file.
 *
 * @module
 */

import { refuseSharedSecrets } from "./private_file.ts";
import { s3KeyPair, type SourceReading } from "./credential_values.ts";

/** What the chain needs to know about `config.toml` (parsed by the config module). */
export interface ConfigFileSecrets {
  path: string;
  exists: boolean;
  /** `Deno.FileInfo.mode`; `undefined` where the OS has no Unix modes. */
  mode?: number;
  /** `[storage] s3_access` */
  s3Access?: string;
  /** `[storage] s3_secret` */
  s3Secret?: string;
}

/**
 * Reads `[storage] s3_access`/`s3_secret`. Like ssh with private keys, a file
 * that holds them and is accessible to group or others (any bit in `0o077`) is
 * refused with a `TcfsError` saying to `chmod 600` it.
 *
 * @example
 * ```ts
 * const info = await Deno.stat("config.toml");
 * const reading = readConfigFileCredentials({
 *   path: "config.toml", exists: true, mode: info.mode ?? undefined,
 *   s3Access: "AKIA…", s3Secret: "…",
 * });
 * ```
 */
export function readConfigFileCredentials(config: ConfigFileSecrets): SourceReading {
  if (!config.exists) return { found: false, reason: "not found" };
  const s3 = s3KeyPair(
    { name: "[storage] s3_access", value: config.s3Access },
    { name: "[storage] s3_secret", value: config.s3Secret },
  );
  if (s3 === undefined) return { found: false, reason: "has no [storage] s3_access/s3_secret" };
  refuseSharedSecrets({ what: "config file", path: config.path, holds: "S3 secrets" }, config.mode);
  return { found: true, values: { s3 } };
}
