/**
 * Rotating the S3 key pair in the SOPS file: the fleet guide's steps 2 and 3 (edit `s3_access`
 * and `s3_secret`, re-encrypt) as one safe operation. The file is decrypted in-process, the two
 * keys are replaced (everything else kept), and the plaintext goes to the real `sops encrypt` on
 * its stdin, so it never touches the disk and the file's own `.sops.yaml` creation rules decide
 * the recipients. The result is checked, the old file kept as a backup, and the new one renamed
 * into place.
 *
 * @module
 */

import { basename, delimiter, dirname, join, resolve } from "node:path";
import { type Document, isScalar, parse } from "yaml";
import { TcfsError } from "../errors.ts";
import { findAgeIdentities } from "./age_identities.ts";
import type { S3Credentials } from "./credential_values.ts";
import { REDACTED } from "./secret_redaction.ts";
import { decryptSopsDocument, decryptSopsFile } from "./sops_decrypt.ts";

/** The sops release tcfs is tested with, for install hints. */
const SOPS_VERSION = "v3.13.2";

/** The `kind` of each {@linkcode TcfsError} that {@linkcode rotateSopsCredentials} throws itself. */
export const SopsRotationErrorKind = {
  /** `sops` is not on PATH. */
  sopsMissing: "sops-missing",
  /** There is no SOPS file to rotate. */
  fileMissing: "sops-file-missing",
  /** The SOPS file is a symlink: it is managed somewhere else (sops-nix, home-manager). */
  managedElsewhere: "sops-file-managed-elsewhere",
  /** `sops encrypt` failed. */
  encryptFailed: "sops-encrypt-failed",
  /** The re-encrypted file does not give back the new keys on this host. */
  verifyFailed: "sops-rotation-unverified",
} as const;

/** What {@linkcode rotateSopsCredentials} needs. */
export interface SopsRotationRequest {
  /** The SOPS file, usually `~/.config/tcfs/secrets.yaml` (config `[secrets] sops_file`). */
  file: string;
  /** The new key pair. */
  s3: S3Credentials;
  /** The environment: `PATH` to find `sops`, and the age identity variables (`SOPS_AGE_KEY_FILE`, …). */
  env: Record<string, string | undefined>;
  /** The backup's timestamp; now by default. */
  now?: Date;
}

/** What {@linkcode rotateSopsCredentials} did. */
export interface SopsRotationResult {
  file: string;
  /** The previous file, kept (mode 0600) as `<file>.bak-<UTC timestamp>`. */
  backup: string;
  /** The `.sops.yaml` whose creation rules chose the recipients, or undefined when none applies. */
  sopsConfig?: string;
  /** The age recipients of the new file. */
  recipients: string[];
}

/** Variables that name recipients to sops and so would override `.sops.yaml`. */
const RECIPIENT_VARIABLES = [
  "SOPS_AGE_RECIPIENTS",
  "SOPS_PGP_FP",
  "SOPS_KMS_ARN",
  "SOPS_GCP_KMS_IDS",
  "SOPS_HUAWEICLOUD_KMS_IDS",
  "SOPS_AZURE_KEYVAULT_URLS",
  "SOPS_VAULT_URIS",
];

/** The file's own encryption rules that sops takes as flags when no `.sops.yaml` applies. */
const RULE_FLAGS: Record<string, string> = {
  unencrypted_suffix: "--unencrypted-suffix",
  encrypted_suffix: "--encrypted-suffix",
  unencrypted_regex: "--unencrypted-regex",
  encrypted_regex: "--encrypted-regex",
};

/** How far up sops looks for `.sops.yaml` (`maxDepth` in its config package). */
const SOPS_CONFIG_MAX_DEPTH = 100;

/**
 * Replaces `s3_access` and `s3_secret` in the SOPS file with the new pair.
 *
 * 1. Finds `sops` on `env.PATH` before touching anything.
 * 2. Decrypts the file in-process with this host's age identities (the file must open here).
 * 3. Pipes the plaintext with the new keys to `sops encrypt --filename-override <file>`, run in
 *    the file's directory so sops finds the `.sops.yaml` above it and applies its creation rule
 *    (recipient variables such as `SOPS_AGE_RECIPIENTS` are removed so they cannot override it).
 *    Without a `.sops.yaml`, the file's current age recipients and encryption rule are kept.
 * 4. Writes the result to a temp file (0600) beside the file and decrypts it in-process: it must
 *    give the new keys on this host, or the daemon could not read it.
 * 5. Copies the old file to `<file>.bak-<timestamp>` (0600) and renames the new one over it.
 *
 * On any failure the file is left as it was.
 *
 * @throws {TcfsError} with a `kind` from {@linkcode SopsRotationErrorKind} or `SopsErrorKind`.
 * @example
 * ```ts
 * const result = await rotateSopsCredentials({
 *   file: config.secrets.sopsFile,
 *   s3: { accessKeyId: new Secret("AK2"), secretAccessKey: new Secret(newSecret) },
 *   env: Deno.env.toObject(),
 * });
 * console.log(`rotated; previous file kept as ${result.backup}`);
 * ```
 */
export async function rotateSopsCredentials(
  request: SopsRotationRequest,
): Promise<SopsRotationResult> {
  const { env } = request;
  // sops resolves --filename-override against its own working directory, the file's.
  const file = resolve(request.file);
  const sops = await findSops(env);
  await checkRotatable(file);
  const identities = await findAgeIdentities(env);
  const document = await decryptSopsDocument(file, identities);
  const access = request.s3.accessKeyId.reveal();
  const secret = request.s3.secretAccessKey.reveal();
  setScalar(document, "s3_access", access);
  setScalar(document, "s3_secret", secret);
  const plaintext = document.toString();

  const dir = dirname(file);
  const sopsConfig = await findSopsConfig(dir);
  const args = [
    "encrypt",
    "--input-type",
    "yaml",
    "--output-type",
    /\.json$/i.test(file) ? "json" : "yaml",
    "--filename-override",
    file,
  ];
  if (!sopsConfig) args.push(...await currentRules(file));
  const encrypted = await runSops(sops, args, {
    cwd: dir,
    env: Object.fromEntries(
      Object.entries(env).filter(([name, value]) =>
        // sops reads no TCFS_ variable, and some hold secrets (S3 keys, the KDBX password).
        value !== undefined && !name.startsWith("TCFS_") &&
        !(sopsConfig && RECIPIENT_VARIABLES.includes(name))
      ),
    ) as Record<string, string>,
    stdin: plaintext,
    secrets: [access, secret],
  });

  const temp = join(dir, `.${basename(file)}.rotate-${randomSuffix()}.tmp`);
  try {
    await writePrivateFile(temp, new TextEncoder().encode(encrypted));
    await verifyRotated(temp, file, identities, access, secret);
    const backup = await writeBackup(file, request.now ?? new Date());
    await Deno.rename(temp, file);
    await syncDirectory(dir);
    return { file, backup, sopsConfig, recipients: await ageRecipients(file) };
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

async function findSops(env: Record<string, string | undefined>): Promise<string> {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "sops");
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new TcfsError(
    "`sops` is not installed (not found on PATH), so the SOPS file cannot be re-encrypted",
    {
      kind: SopsRotationErrorKind.sopsMissing,
      hint: `install it with \`go install github.com/getsops/sops/v3/cmd/sops@${SOPS_VERSION}\` ` +
        "(or run scripts/setup.sh in the tcfs source tree) and make sure it is on PATH",
    },
  );
}

async function checkRotatable(file: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(file);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new TcfsError(`there is no SOPS file at ${file} to rotate`, {
      kind: SopsRotationErrorKind.fileMissing,
      hint: "create it with s3_access and s3_secret and encrypt it with " +
        `\`sops encrypt --in-place ${file}\`, or set [secrets] sops_file in config.toml`,
    });
  }
  if (info.isSymlink) {
    throw new TcfsError(
      `${file} is a symlink, so it is managed elsewhere (sops-nix or home-manager, say)`,
      {
        kind: SopsRotationErrorKind.managedElsewhere,
        hint: "rotate the keys in the file it comes from and redeploy",
      },
    );
  }
}

/** Sets a top-level scalar, keeping its key's place and comments. */
function setScalar(document: Document, key: string, value: string): void {
  const node = document.get(key, true);
  if (isScalar(node)) {
    node.value = value;
    node.type = undefined;
  } else {
    document.set(key, value);
  }
}

/** The `.sops.yaml` sops would use when run in `dir`, found the way sops finds it. */
async function findSopsConfig(dir: string): Promise<string | undefined> {
  let current = dir;
  for (let depth = 0; depth < SOPS_CONFIG_MAX_DEPTH; depth++) {
    const candidate = join(current, ".sops.yaml");
    try {
      await Deno.stat(candidate);
      return candidate;
    } catch {
      // keep looking upwards
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
  return undefined;
}

/** The file's age recipients and encryption rule, as `sops encrypt` flags. */
async function currentRules(file: string): Promise<string[]> {
  const metadata = await sopsMetadata(file);
  const recipients = ageRecipientsOf(metadata);
  const flags = ["--age", recipients.join(",")];
  for (const [field, flag] of Object.entries(RULE_FLAGS)) {
    const value = metadata[field];
    if (typeof value === "string" && value !== "") flags.push(flag, value);
  }
  return flags;
}

async function runSops(
  sops: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; stdin: string; secrets: string[] },
): Promise<string> {
  const child = new Deno.Command(sops, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(options.stdin));
  await writer.close();
  const output = await child.output();
  if (output.code === 0) return new TextDecoder().decode(output.stdout);
  let stderr = new TextDecoder().decode(output.stderr).trim();
  // sops quotes input in some parse errors; the new keys must not reach a terminal or log.
  for (const secret of options.secrets) stderr = stderr.replaceAll(secret, REDACTED);
  throw new TcfsError(`\`sops ${args.join(" ")}\` failed (exit ${output.code}): ${stderr}`, {
    kind: SopsRotationErrorKind.encryptFailed,
    hint: "check the creation_rules in the .sops.yaml above the file: one must match its path " +
      "and name age recipients",
  });
}

async function verifyRotated(
  temp: string,
  file: string,
  identities: Awaited<ReturnType<typeof findAgeIdentities>>,
  access: string,
  secret: string,
): Promise<void> {
  let data;
  try {
    data = await decryptSopsFile(temp, identities);
  } catch (err) {
    const why = err instanceof Error ? err.message.replaceAll(temp, "the new file") : String(err);
    throw new TcfsError(
      `the re-encrypted ${file} could not be read back on this host, so it was not installed: ${why}`,
      {
        kind: SopsRotationErrorKind.verifyFailed,
        hint: "the .sops.yaml creation rule for this file must include this host's age " +
          "recipient (`age-keygen -y ~/.config/sops/age/keys.txt`)",
      },
    );
  }
  if (String(data.s3_access) !== access || String(data.s3_secret) !== secret) {
    throw new TcfsError(
      `the re-encrypted ${file} does not hold the new keys; it was not installed`,
      {
        kind: SopsRotationErrorKind.verifyFailed,
        hint:
          "check that the .sops.yaml rule does not leave s3_access or s3_secret out (encrypted_regex)",
      },
    );
  }
}

/** Copies the file to `<file>.bak-<YYYYMMDDTHHMMSSZ>` (with `-2`, `-3`, … if that exists). */
async function writeBackup(file: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const bytes = await Deno.readFile(file);
  for (let n = 1;; n++) {
    const backup = `${file}.bak-${stamp}${n === 1 ? "" : `-${n}`}`;
    try {
      await writePrivateFile(backup, bytes);
      return backup;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
  }
}

/** Creates `path` (which must not exist) with mode 0600 and the bytes, flushed to disk. */
async function writePrivateFile(path: string, bytes: Uint8Array): Promise<void> {
  using handle = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  // The mode above is filtered by the umask; this is not.
  await Deno.chmod(path, 0o600);
  for (let written = 0; written < bytes.length;) {
    written += await handle.write(bytes.subarray(written));
  }
  await handle.sync();
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    using handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // Not every platform can fsync a directory; the rename itself is atomic.
  }
}

async function sopsMetadata(file: string): Promise<Record<string, unknown>> {
  const parsed = parse(await Deno.readTextFile(file)) as { sops?: Record<string, unknown> };
  return parsed?.sops ?? {};
}

function ageRecipientsOf(metadata: Record<string, unknown>): string[] {
  const entries = Array.isArray(metadata.age) ? metadata.age : [];
  return entries.map((entry) => String((entry as { recipient?: unknown }).recipient ?? ""))
    .filter((recipient) => recipient !== "");
}

async function ageRecipients(file: string): Promise<string[]> {
  return ageRecipientsOf(await sopsMetadata(file));
}

function randomSuffix(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}
