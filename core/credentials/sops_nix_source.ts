/**
 * Credentials from a sops-nix secrets directory such as `/run/secrets/tcfs/`,
 * where each secret is one file: `s3_access`, `s3_secret`, `s3_endpoint`, `nats_url`.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { s3KeyPair, type SourceReading } from "./credential_values.ts";
import { describeReadError } from "./read_error.ts";

/** The files a sops-nix directory may hold. */
export const SOPS_NIX_FILES = ["s3_access", "s3_secret", "s3_endpoint", "nats_url"] as const;

/**
 * Reads the secret files in `dir`, trimming the trailing newline. A missing
 * directory, or one with none of {@linkcode SOPS_NIX_FILES}, is skipped; an
 * unreadable file throws a `TcfsError` (usually: the secret's owner is not the
 * user tcfs runs as).
 *
 * @example
 * ```ts
 * const reading = await readSopsNixCredentials("/run/secrets/tcfs");
 * ```
 */
export async function readSopsNixCredentials(dir: string): Promise<SourceReading> {
  try {
    if (!(await Deno.stat(dir)).isDirectory) {
      throw new TcfsError(`sops-nix path ${dir} is not a directory`, {
        kind: "sops-nix-unreadable",
      });
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { found: false, reason: "not found" };
    throw err;
  }
  const files: Partial<Record<typeof SOPS_NIX_FILES[number], string>> = {};
  for (const name of SOPS_NIX_FILES) {
    const path = `${dir}/${name}`;
    try {
      files[name] = (await Deno.readTextFile(path)).replace(/\r?\n$/, "");
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw new TcfsError(`sops-nix secret ${path}: ${describeReadError(err)}`, {
        kind: "sops-nix-unreadable",
        hint: "set the secret's owner (sops.secrets.<name>.owner) to the user tcfs runs as",
        cause: err,
      });
    }
  }
  if (Object.keys(files).length === 0) {
    return { found: false, reason: `holds none of ${SOPS_NIX_FILES.join(", ")}` };
  }
  const s3 = s3KeyPair(
    { name: `${dir}/s3_access`, value: files.s3_access },
    { name: `${dir}/s3_secret`, value: files.s3_secret },
  );
  return {
    found: true,
    values: {
      ...(s3 && { s3 }),
      ...(files.s3_endpoint && { s3Endpoint: files.s3_endpoint }),
      ...(files.nats_url && { natsUrl: files.nats_url }),
    },
  };
}
