/**
 * `tcfs doctor`: do credentials resolve for the configured store?
 *
 * @module
 */

import type { TcfsConfig } from "../../core/config/config_schema.ts";
import {
  requireS3Credentials,
  type ResolvedCredentials,
} from "../../core/credentials/credential_chain.ts";
import { TcfsError } from "../../core/errors.ts";
import { configuredEndpoint } from "../../core/runtime/device_setup.ts";
import { type CheckResult, checkResult } from "./doctor_check.ts";

/**
 * `ok` with the source that supplied the S3 key pair, `warn` when the chain left warnings (a
 * failed source, plaintext keys in config.toml), `fail` when an S3 endpoint has no key pair.
 *
 * @example
 * ```ts
 * credentialsCheck(runtime.config, await runtime.credentials());
 * // { name: "credentials", status: "ok", detail: "from sops:/home/ada/.config/tcfs/secrets.yaml (loaded …)" }
 * ```
 */
export function credentialsCheck(config: TcfsConfig, resolved: ResolvedCredentials): CheckResult {
  const name = "credentials";
  const needed = /^https?:/.test(configuredEndpoint(config, resolved));
  if (needed && !resolved.s3) {
    try {
      requireS3Credentials(resolved);
    } catch (err) {
      if (!(err instanceof TcfsError)) throw err;
      return checkResult(name, "fail", err.message, err.hint);
    }
  }
  const detail = resolved.s3
    ? `S3 keys from ${resolved.source} (loaded ${resolved.loadedAt.toISOString()})`
    : "none needed: the store is a local directory";
  if (resolved.warnings.length > 0) {
    return checkResult(
      name,
      "warn",
      `${detail}; ${resolved.warnings.join("; ")}`,
      "see `tcfs creds status` for every source and why it was skipped",
    );
  }
  return checkResult(name, "ok", detail);
}
