/**
 * The device's age key pair: the same key sops uses to decrypt the host's secrets, kept in
 * sops's key file (`~/.config/sops/age/keys.txt`). tcfs reuses that file when it exists and
 * otherwise writes one exactly as `age-keygen -o` would.
 *
 * @module
 */

import { createPrivateFile } from "../credentials/private_file.ts";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { TcfsError } from "../errors.ts";

/** The device's age key, by its public half; the secret never leaves the file. */
export interface DeviceAgeKey {
  /** The public key (`age1…`), for `.sops.yaml` and the registry. */
  recipient: string;
  /** The key file. */
  path: string;
  /** True when this call generated the key. */
  created: boolean;
}

/**
 * Returns the first identity in the key file at `path`, generating a new X25519 identity there
 * (mode 0600, in `age-keygen`'s format) when the file does not exist.
 *
 * @throws {TcfsError} (kind `age_key_invalid`) when the file exists but holds no usable identity.
 *
 * @example
 * ```ts
 * const key = await loadOrCreateAgeKey(tcfsPaths().ageKeyFile);
 * console.log(`age public key: ${key.recipient}`);
 * ```
 */
export async function loadOrCreateAgeKey(
  path: string,
  now: Date = new Date(),
): Promise<DeviceAgeKey> {
  const existing = await readFirstRecipient(path);
  if (existing) return { recipient: existing, path, created: false };
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const created = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const text = `# created: ${created}\n# public key: ${recipient}\n${identity}\n`;
  if (!await createPrivateFile(path, text)) {
    // Another process wrote the file meanwhile: its key wins.
    return { recipient: (await readFirstRecipient(path))!, path, created: false };
  }
  return { recipient, path, created: true };
}

/** A device's age identity: the secret key and its public recipient. */
export interface DeviceAgeIdentity {
  /** The `AGE-SECRET-KEY-1…` text: never print or log it. */
  identity: string;
  /** Its public key (`age1…`). */
  recipient: string;
}

/**
 * The public key of the first identity in the key file at `path`, or undefined when the file
 * does not exist.
 *
 * @throws {TcfsError} (kind `age_key_invalid`) when the file exists but holds no usable identity.
 *
 * @example
 * ```ts
 * await readFirstRecipient(tcfsPaths().ageKeyFile); // "age1…"
 * ```
 */
export async function readFirstRecipient(path: string): Promise<string | undefined> {
  return (await readFirstIdentity(path))?.recipient;
}

/**
 * The first identity in the key file at `path` with its recipient, or undefined when the file
 * does not exist: what opens the fleet keychain for this device.
 *
 * @throws {TcfsError} (kind `age_key_invalid`) when the file exists but holds no usable identity.
 *
 * @example
 * ```ts
 * const own = await readFirstIdentity(config.paths.ageKeyFile);
 * ```
 */
export async function readFirstIdentity(path: string): Promise<DeviceAgeIdentity | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new TcfsError(`cannot read the age key file ${path}: ${(err as Error).message}`, {
      kind: "age_key_invalid",
      hint: `make ${path} readable by you (mode 0600)`,
      cause: err,
    });
  }
  // Like age and sops: one identity per line, `#` comments and blank lines skipped.
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (line === "" || line.startsWith("#")) continue;
    try {
      return { identity: line, recipient: await identityToRecipient(line) };
    } catch {
      // Not an identity tcfs can use (e.g. a plugin identity); try the next line.
    }
  }
  throw new TcfsError(`the age key file ${path} holds no usable age identity`, {
    kind: "age_key_invalid",
    hint: "fix the file, or move it away so tcfs writes a new key there (sops uses the same file)",
  });
}
