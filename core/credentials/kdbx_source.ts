/**
 * Credentials from a KeePassXC database (KDBX 3.1 with AES-KDF, or KDBX 4 with
 * Argon2d/Argon2id) via kdbxweb, with hash-wasm computing Argon2.
 *
 * @module
 */

// The default import: under Deno the namespace import lacks ProtectedValue and others.
import kdbxweb from "kdbxweb";
import { argon2d, argon2id } from "hash-wasm";
import { TcfsError } from "../errors.ts";
import type { SourceReading } from "./credential_values.ts";
import { promptHidden } from "./password_prompt.ts";
import { describeReadError } from "./read_error.ts";
import { Secret } from "./secret_redaction.ts";
import { readPrivateFile, type SecretFile } from "./private_file.ts";

/** The entry looked up when none is configured. */
export const DEFAULT_KDBX_ENTRY = "tcfs/s3";

/** The `kind` of each {@linkcode TcfsError} that {@linkcode readKdbxCredentials} throws. */
export const KdbxErrorKind = {
  /** The database or key file is missing, unreadable or not a KDBX file. */
  unreadable: "kdbx-unreadable",
  /** The password or key file does not open the database. */
  wrongKey: "kdbx-wrong-key",
  /** No entry at the configured path. */
  entryNotFound: "kdbx-entry-not-found",
  /** The entry lacks a UserName or Password. */
  entryIncomplete: "kdbx-entry-incomplete",
} as const;

/** Where the database is, which entry to read, and how to unlock it. */
export interface KdbxSourceOptions {
  path: string;
  /** `group/sub/Title`; matched case-insensitively, with or without the root group's name. */
  entryPath: string;
  /** A KeePass key file, used with or instead of the password. */
  keyFile?: string;
  /** Consulted for `TCFS_KDBX_PASSWORD`. */
  env: Record<string, string | undefined>;
  /** Whether a person is at the terminal and may be asked for the password. */
  interactive: boolean;
  /** Asks for the password; defaults to {@linkcode promptHidden}. */
  promptPassword?: (message: string) => Promise<string>;
}

// kdbxweb ships no Argon2; KDBX 4 databases need it to derive the key.
kdbxweb.CryptoEngine.setArgon2Impl(
  async (password, salt, memory, iterations, length, parallelism, type, version) => {
    if (version !== 0x13) {
      throw new TcfsError(`KDBX uses Argon2 version 0x${version.toString(16)}; tcfs reads 0x13`, {
        kind: KdbxErrorKind.unreadable,
      });
    }
    const hash = await (type === kdbxweb.CryptoEngine.Argon2TypeArgon2d ? argon2d : argon2id)({
      password: new Uint8Array(password),
      salt: new Uint8Array(salt),
      memorySize: memory,
      iterations,
      hashLength: length,
      parallelism,
      outputType: "binary",
    });
    return hash.buffer.slice(hash.byteOffset, hash.byteOffset + hash.byteLength) as ArrayBuffer;
  },
);

/**
 * Opens the database and reads the entry: UserName is the access key,
 * Password the secret, URL the S3 endpoint. The password comes from
 * `TCFS_KDBX_PASSWORD` or the key file (or both); only when neither is given
 * and `interactive` is true is the user asked. With no way to unlock, the
 * source is skipped with the reason.
 *
 * @throws {TcfsError} with a `kind` from {@linkcode KdbxErrorKind}.
 * @example
 * ```ts
 * const reading = await readKdbxCredentials({
 *   path: "/home/u/tcfs.kdbx",
 *   entryPath: DEFAULT_KDBX_ENTRY,
 *   env: Deno.env.toObject(),
 *   interactive: Deno.stdin.isTerminal(),
 * });
 * ```
 */
export async function readKdbxCredentials(options: KdbxSourceOptions): Promise<SourceReading> {
  const { path, entryPath } = options;
  const data = await readBytes(path, `KDBX at ${path}`);
  let password = options.env.TCFS_KDBX_PASSWORD
    ? new Secret(options.env.TCFS_KDBX_PASSWORD)
    : undefined;
  if (password === undefined && options.keyFile === undefined) {
    if (!options.interactive) {
      return {
        found: false,
        reason: `KDBX at ${path} needs a password: set TCFS_KDBX_PASSWORD or a key file ` +
          "(not prompting: not an interactive terminal)",
      };
    }
    const prompt = options.promptPassword ?? promptHidden;
    password = new Secret(await prompt(`Password for ${path}: `));
  }
  const keyFile = options.keyFile === undefined
    ? undefined
    : await readBytes(options.keyFile, `KDBX key file ${options.keyFile}`, {
      what: "KDBX key file",
      path: options.keyFile,
      holds: "the key to a password database",
    });
  const db = await openDatabase(path, data, password, keyFile);
  const entry = findEntry(db, entryPath);
  if (entry === undefined) {
    throw new TcfsError(`KDBX at ${path} has no entry ${entryPath}`, {
      kind: KdbxErrorKind.entryNotFound,
      hint: `create it (UserName = access key, Password = secret, URL = endpoint): ` +
        `\`keepassxc-cli add -u <access key> -p --url <endpoint> ${path} ${entryPath}\``,
    });
  }
  const accessKeyId = fieldText(entry, "UserName");
  const secretAccessKey = fieldText(entry, "Password");
  if (!accessKeyId || !secretAccessKey) {
    throw new TcfsError(
      `KDBX at ${path}: entry ${entryPath} needs both a UserName (the access key) and a Password`,
      { kind: KdbxErrorKind.entryIncomplete },
    );
  }
  const s3Endpoint = fieldText(entry, "URL");
  return {
    found: true,
    values: {
      s3: { accessKeyId: new Secret(accessKeyId), secretAccessKey: new Secret(secretAccessKey) },
      ...(s3Endpoint && { s3Endpoint }),
    },
  };
}

/** Reads a file; with `secret`, only if no other user can access it. */
async function readBytes(
  path: string,
  what: string,
  secret?: SecretFile,
): Promise<ArrayBuffer> {
  try {
    const bytes = secret ? await readPrivateFile(secret) : await Deno.readFile(path);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  } catch (err) {
    if (err instanceof TcfsError) throw err;
    throw new TcfsError(`${what}: ${describeReadError(err)}`, {
      kind: KdbxErrorKind.unreadable,
      cause: err,
    });
  }
}

/**
 * Caps on the key derivation a database may ask for. The header is read before anything in the
 * file is authenticated, so a damaged or planted one could ask for 2^64 AES rounds (a hang) or
 * a terabyte of Argon2 memory. The caps are far above what KeePassXC picks for about a second
 * of unlocking; at the caps, unlocking takes minutes but ends.
 */
export const KDBX_KDF_CAPS = {
  aesRounds: 2 ** 30,
  argon2MemoryBytes: 2 ** 30,
  /** Memory in MiB times passes: 64 MiB × 1024 passes. */
  argon2MiBPasses: 2 ** 16,
  argon2Lanes: 256,
} as const;

/** What is over {@linkcode KDBX_KDF_CAPS} in the header of `data`, if anything. */
function kdfOverCap(data: ArrayBuffer): string | undefined {
  let header: kdbxweb.KdbxHeader;
  try {
    const context = new kdbxweb.KdbxContext({ kdbx: new kdbxweb.Kdbx() });
    header = kdbxweb.KdbxHeader.read(new kdbxweb.BinaryStream(data), context);
  } catch {
    return undefined; // kdbxweb says what is wrong with the header when it loads it
  }
  // Int64's own conversion throws above 2^53; this one only rounds.
  const number = (value: unknown) =>
    value instanceof kdbxweb.Int64
      ? value.hi * 2 ** 32 + value.lo
      : typeof value === "number"
      ? value
      : 0;
  const params = header.kdfParameters;
  const rounds = header.keyEncryptionRounds ?? number(params?.get("R"));
  const memory = number(params?.get("M"));
  const passes = number(params?.get("I"));
  const lanes = number(params?.get("P"));
  const caps = KDBX_KDF_CAPS;
  if (rounds > caps.aesRounds) return `${rounds} AES rounds (at most ${caps.aesRounds})`;
  if (memory > caps.argon2MemoryBytes) {
    return `${memory} bytes of Argon2 memory (at most ${caps.argon2MemoryBytes})`;
  }
  if ((memory / 2 ** 20) * passes > caps.argon2MiBPasses) {
    return `${passes} Argon2 passes over ${memory / 2 ** 20} MiB ` +
      `(at most ${caps.argon2MiBPasses} MiB × passes)`;
  }
  if (lanes > caps.argon2Lanes) return `${lanes} Argon2 lanes (at most ${caps.argon2Lanes})`;
  return undefined;
}

async function openDatabase(
  path: string,
  data: ArrayBuffer,
  password: Secret | undefined,
  keyFile: ArrayBuffer | undefined,
): Promise<kdbxweb.Kdbx> {
  const overCap = kdfOverCap(data);
  if (overCap) {
    throw new TcfsError(`KDBX at ${path} asks for too much key derivation work: ${overCap}`, {
      kind: KdbxErrorKind.unreadable,
      hint: "the file is damaged, or its encryption settings are extreme; lower them in " +
        "KeePassXC (Database settings > Security)",
    });
  }
  const credentials = new kdbxweb.Credentials(
    password === undefined ? null : kdbxweb.ProtectedValue.fromString(password.reveal()),
    keyFile,
  );
  try {
    return await kdbxweb.Kdbx.load(data, credentials);
  } catch (err) {
    if (err instanceof TcfsError) throw err;
    if (err instanceof kdbxweb.KdbxError && err.code === kdbxweb.Consts.ErrorCodes.InvalidKey) {
      throw new TcfsError(`KDBX at ${path}: wrong password or key file`, {
        kind: KdbxErrorKind.wrongKey,
        hint: "check TCFS_KDBX_PASSWORD and the key file; `keepassxc-cli open` tries them",
      });
    }
    const code = err instanceof kdbxweb.KdbxError ? err.code : String(err);
    throw new TcfsError(`KDBX at ${path} cannot be opened (${code})`, {
      kind: KdbxErrorKind.unreadable,
      cause: err,
    });
  }
}

/** Follows `group/sub/Title`, trying the path both below the root group and as naming it. */
function findEntry(db: kdbxweb.Kdbx, entryPath: string): kdbxweb.KdbxEntry | undefined {
  const groups = entryPath.split("/").filter((part) => part !== "");
  const title = groups.pop();
  if (title === undefined) return undefined;
  const root = db.getDefaultGroup();
  const walk = (group: kdbxweb.KdbxGroup, names: string[]): kdbxweb.KdbxEntry | undefined => {
    if (names.length === 0) {
      return group.entries.find((entry) => sameName(fieldText(entry, "Title"), title));
    }
    for (const child of group.groups) {
      if (!sameName(child.name, names[0])) continue;
      const found = walk(child, names.slice(1));
      if (found) return found;
    }
    return undefined;
  };
  return walk(root, groups) ??
    (groups.length > 0 && sameName(root.name, groups[0]) ? walk(root, groups.slice(1)) : undefined);
}

function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

function fieldText(entry: kdbxweb.KdbxEntry, name: string): string | undefined {
  const value = entry.fields.get(name);
  return value instanceof kdbxweb.ProtectedValue ? value.getText() : value;
}
