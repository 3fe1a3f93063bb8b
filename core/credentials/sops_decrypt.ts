/**
 * Decrypting SOPS YAML/JSON files in-process with age identities, the way
 * `sops decrypt` does: the data key from an `age` recipient block, AES-256-GCM
 * with 32-byte IVs and the key path as additional data, and the MAC checked.
 *
 * @module
 */

import { armor, Decrypter } from "age-encryption";
import { gcm } from "@noble/ciphers/aes.js";
import { type Document, isMap, isScalar, isSeq, parseDocument, type Scalar } from "yaml";
import { TcfsError } from "../errors.ts";
import { concatBytes } from "../encoding/concat_bytes.ts";
import type { AgeIdentitySearch } from "./age_identities.ts";
import { describeReadError } from "./read_error.ts";

/** A decrypted SOPS value: what `sops decrypt --output-type json` would print. */
export type SopsValue = string | number | boolean | null | SopsValue[] | SopsMap;

/** A decrypted SOPS mapping. */
export interface SopsMap {
  [key: string]: SopsValue;
}

/** The `kind` of each {@linkcode TcfsError} that {@linkcode decryptSopsFile} throws. */
export const SopsErrorKind = {
  /** The file is missing, unreadable, or not YAML/JSON. */
  unreadable: "sops-unreadable",
  /** The file has no top-level `sops` metadata block. */
  notSopsFile: "sops-not-sops-file",
  /** The file has no age recipients (only pgp, kms, … or Shamir key groups). */
  unsupportedKeyType: "sops-unsupported-key-type",
  /** None of the host's age identities opens any of the file's age blocks. */
  noMatchingKey: "sops-no-matching-key",
  /** The values do not match the file's MAC: the file was altered. */
  macMismatch: "sops-mac-mismatch",
  /** A value cannot be decrypted or has the wrong form. */
  corruptValue: "sops-corrupt-value",
} as const;

/** Key types sops supports besides age, as named in the `sops` block. */
const OTHER_KEY_TYPES = ["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"];

/** sops's default when a file names no encryption rule (`sops.DefaultUnencryptedSuffix`). */
const DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted";

/** sops `MACOnlyEncryptedInitialization`: sha256("sops"), hashed first when `mac_only_encrypted`. */
const MAC_ONLY_ENCRYPTED_INIT = Uint8Array.from([
  0x8a,
  0x3f,
  0xd2,
  0xad,
  0x54,
  0xce,
  0x66,
  0x52,
  0x7b,
  0x10,
  0x34,
  0xf3,
  0xd1,
  0x47,
  0xbe,
  0x0b,
  0x0b,
  0x97,
  0x5b,
  0x3b,
  0xf4,
  0x4f,
  0x72,
  0xc6,
  0xfd,
  0xad,
  0xec,
  0x81,
  0x76,
  0xf2,
  0x7d,
  0x69,
]);

/** The regular expression sops's `aes/cipher.go` parses encrypted values with. */
const ENCRYPTED_VALUE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]$/;

/** Which leaves the file's `sops` block says are encrypted. */
interface EncryptionRules {
  unencryptedSuffix?: string;
  encryptedSuffix?: string;
  unencryptedRegex?: RegExp;
  encryptedRegex?: RegExp;
  /** A comment regex is set, so encryption depends on comments (see {@linkcode isEncryptedLeaf}). */
  dependsOnComments: boolean;
  macOnlyEncrypted: boolean;
}

/** A value as stored in YAML (maps kept as `Map` so that document order survives). */
type StoredValue = string | number | boolean | null | StoredValue[] | Map<unknown, StoredValue>;

/** Where a leaf sits: the key path (for AAD and rules) and a readable label for messages. */
interface LeafPath {
  keys: string[];
  label: string;
}

/**
 * Decrypts the SOPS file at `path` with the given age identities and returns
 * its data as plain objects, deep-equal to `sops decrypt --output-type json`.
 * Every age recipient block is tried with every identity, values are checked
 * with AES-GCM, and the whole file against its MAC. Error messages name paths,
 * recipients and public keys, never values or private keys.
 *
 * @throws {TcfsError} with a `kind` from {@linkcode SopsErrorKind}.
 * @example
 * ```ts
 * const keys = await findAgeIdentities(Deno.env.toObject());
 * const data = await decryptSopsFile(`${Deno.env.get("HOME")}/.config/tcfs/secrets.yaml`, keys);
 * console.log(Object.keys(data)); // ["s3_access", "s3_secret", …]
 * ```
 */
export async function decryptSopsFile(path: string, keys: AgeIdentitySearch): Promise<SopsMap> {
  return (await openSopsFile(path, keys)).data;
}

/**
 * Decrypts the SOPS YAML or JSON file at `path` into the plaintext YAML document `sops decrypt`
 * would print: values and comments in the clear, key order and nesting kept, the `sops` block
 * removed. It is checked exactly as {@linkcode decryptSopsFile} checks it. For rewriting a file
 * (`tcfs creds rotate` pipes it to `sops encrypt`); the result never touches the disk here.
 *
 * @throws {TcfsError} with a `kind` from {@linkcode SopsErrorKind}.
 * @example
 * ```ts
 * const document = await decryptSopsDocument(file, await findAgeIdentities(Deno.env.toObject()));
 * document.set("s3_secret", newSecret);
 * const plaintext = document.toString(); // pipe to `sops encrypt`, never to a file
 * ```
 */
export async function decryptSopsDocument(
  path: string,
  keys: AgeIdentitySearch,
): Promise<Document> {
  const { dataKey, rules, text } = await openSopsFile(path, keys);
  const document = parseDocument(text);
  document.delete("sops");
  const context: DecryptContext = { path, dataKey, rules, macInput: [] };
  decryptComments(document, candidateAads([]), dataKey);
  decryptNode(document.contents, { keys: [], label: "" }, context);
  return document;
}

/** The decrypted data of a verified file, with what it takes to decrypt its document too. */
async function openSopsFile(
  path: string,
  keys: AgeIdentitySearch,
): Promise<{ data: SopsMap; dataKey: Uint8Array; rules: EncryptionRules; text: string }> {
  const { document, text } = await readDocument(path);
  const metadata = document.get("sops");
  if (!(metadata instanceof Map)) {
    throw new TcfsError(`SOPS file ${path} has no "sops" metadata block: it is not encrypted`, {
      kind: SopsErrorKind.notSopsFile,
      hint: `encrypt it with \`sops encrypt --in-place ${path}\``,
    });
  }
  const dataKey = await recoverDataKey(path, metadata, keys);
  const rules = encryptionRules(path, metadata);
  const macInput: Uint8Array[] = rules.macOnlyEncrypted ? [MAC_ONLY_ENCRYPTED_INIT] : [];
  const data: SopsMap = {};
  for (const [key, value] of document) {
    if (key === "sops") continue;
    const name = String(key);
    data[name] = decryptTree(value, { keys: [name], label: name }, {
      path,
      dataKey,
      rules,
      macInput,
    });
  }
  await verifyMac(path, metadata, dataKey, macInput);
  return { data, dataKey, rules, text };
}

/**
 * Decrypts the encrypted leaves and comments of a YAML node in place. A leaf's additional data
 * is its key path, as in {@linkcode decryptTree}.
 */
function decryptNode(node: unknown, at: LeafPath, context: DecryptContext): void {
  decryptComments(node, candidateAads(at.keys), context.dataKey);
  if (isMap(node)) {
    for (const pair of node.items) {
      const name = String(isScalar(pair.key) ? pair.key.value : pair.key);
      decryptComments(pair.key, candidateAads(at.keys), context.dataKey);
      const child = {
        keys: [...at.keys, name],
        label: at.label === "" ? name : `${at.label}.${name}`,
      };
      if (isScalar(pair.value)) decryptScalar(pair.value, child, context);
      else decryptNode(pair.value, child, context);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      const child = { keys: at.keys, label: `${at.label}[${index}]` };
      if (isScalar(item)) decryptScalar(item, child, context);
      else decryptNode(item, child, context);
    });
  }
}

function decryptScalar(scalar: Scalar, at: LeafPath, context: DecryptContext): void {
  decryptComments(scalar, candidateAads(at.keys), context.dataKey);
  const value = scalar.value as StoredValue;
  if (value === null || typeof value === "object") return;
  if (isEncryptedLeaf(context.rules, at.keys, value)) {
    scalar.value = decryptLeaf(value, at, context).value;
    // The ciphertext's quoting says nothing about the plaintext's.
    scalar.type = undefined;
  }
}

/**
 * A comment's additional data is the key path of the mapping that holds it, which the YAML
 * parser does not say exactly (a comment before a nested mapping's first key is attached to the
 * mapping). GCM accepts only the right one, so the candidates are tried from deepest to root.
 */
function candidateAads(keys: string[]): string[] {
  return keys.map((_, depth) => `${keys.slice(0, keys.length - depth).join(":")}:`).concat(":");
}

/** Decrypts the `#ENC[…,type:comment]` lines attached to a node; others are left as they are. */
function decryptComments(node: unknown, aads: string[], dataKey: Uint8Array): void {
  if (typeof node !== "object" || node === null) return;
  const holder = node as { commentBefore?: string | null; comment?: string | null };
  for (const field of ["commentBefore", "comment"] as const) {
    const text = holder[field];
    if (typeof text !== "string") continue;
    holder[field] = text.split("\n").map((line) => {
      const encrypted = line.trim();
      if (ENCRYPTED_VALUE.exec(encrypted)?.[4] !== "comment") return line;
      for (const aad of aads) {
        const plaintext = openValue(encrypted, aad, dataKey);
        // Like sops, a comment that does not open stays as it is: comments carry no data.
        if (plaintext !== undefined) return new TextDecoder().decode(plaintext);
      }
      return line;
    }).join("\n");
  }
}

async function readDocument(
  path: string,
): Promise<{ document: Map<unknown, StoredValue>; text: string }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new TcfsError(`SOPS file ${path}: ${describeReadError(err)}`, {
      kind: SopsErrorKind.unreadable,
      cause: err,
    });
  }
  const document = parseDocument(text);
  const [problem] = document.errors;
  if (problem) {
    // The parser's own message quotes the source line, which may hold a secret.
    const where = problem.linePos ? ` at line ${problem.linePos[0].line}` : "";
    throw new TcfsError(
      `SOPS file ${path} is not valid YAML or JSON (${problem.code}${where})`,
      { kind: SopsErrorKind.unreadable, hint: "check the file with `sops decrypt`" },
    );
  }
  let root: unknown;
  try {
    root = document.toJS({ mapAsMap: true });
  } catch (err) {
    // The YAML library refuses aliases that expand past its limit (a "billion laughs" file).
    throw new TcfsError(
      `SOPS file ${path} cannot be read: its YAML aliases expand too far (${(err as Error).name})`,
      { kind: SopsErrorKind.unreadable, hint: "write the values out instead of using aliases" },
    );
  }
  if (!(root instanceof Map)) {
    throw new TcfsError(`SOPS file ${path} is not a mapping of keys to values`, {
      kind: SopsErrorKind.notSopsFile,
    });
  }
  return { document: root, text };
}

/** Finds the 32-byte data key by opening the file's age blocks with the host's identities. */
async function recoverDataKey(
  path: string,
  metadata: Map<unknown, unknown>,
  keys: AgeIdentitySearch,
): Promise<Uint8Array> {
  const blocks = ageBlocks(path, metadata);
  const recipients = blocks.map((block) => block.recipient).join(", ");
  const updateHint = "add this host's public key (`age-keygen -y <key file>`) to the file's " +
    `.sops.yaml rule and run \`sops updatekeys ${path}\`, or set SOPS_AGE_KEY_FILE to a key ` +
    "for one of the file's recipients";
  if (keys.identities.length === 0) {
    throw new TcfsError(
      `SOPS file ${path}: no age identity found on this host to decrypt it (recipients: ` +
        `${recipients}; looked in: ${keys.searched.join("; ")})`,
      { kind: SopsErrorKind.noMatchingKey, hint: updateHint },
    );
  }
  const decrypter = new Decrypter();
  for (const identity of keys.identities) decrypter.addIdentity(identity.secretKey.reveal());
  const problems: string[] = [];
  for (const block of blocks) {
    let dataKey: Uint8Array;
    try {
      dataKey = await decrypter.decrypt(armor.decode(block.enc));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!message.includes("no identity matched")) {
        problems.push(`the block for ${block.recipient} is damaged (${message})`);
      }
      continue;
    }
    if (dataKey.length === 32) return dataKey;
    problems.push(`the block for ${block.recipient} holds a ${dataKey.length}-byte key, not 32`);
  }
  const tried = keys.identities.map((identity) => `${identity.recipient} (${identity.origin})`);
  throw new TcfsError(
    `SOPS file ${path}: no matching key. Its age recipients are ${recipients}; ` +
      `the identities tried were ${tried.join(", ")}` +
      (problems.length > 0 ? `; also ${problems.join("; ")}` : ""),
    { kind: SopsErrorKind.noMatchingKey, hint: updateHint },
  );
}

function ageBlocks(
  path: string,
  metadata: Map<unknown, unknown>,
): { recipient: string; enc: string }[] {
  const groups = metadata.get("key_groups");
  if (Array.isArray(groups) && groups.length > 1) {
    throw new TcfsError(
      `SOPS file ${path} splits its data key across ${groups.length} key groups (Shamir), ` +
        "which tcfs cannot decrypt",
      {
        kind: SopsErrorKind.unsupportedKeyType,
        hint: "re-encrypt it for plain age recipients without key_groups",
      },
    );
  }
  const sources = Array.isArray(groups) && groups[0] instanceof Map ? groups[0] : metadata;
  const blocks: { recipient: string; enc: string }[] = [];
  const entries = sources.get("age");
  for (const entry of Array.isArray(entries) ? entries : []) {
    if (entry instanceof Map && typeof entry.get("enc") === "string") {
      blocks.push({ recipient: String(entry.get("recipient") ?? "?"), enc: entry.get("enc") });
    }
  }
  if (blocks.length > 0) return blocks;
  const others = OTHER_KEY_TYPES.filter((type) => {
    const value = sources.get(type);
    return Array.isArray(value) && value.length > 0;
  });
  throw new TcfsError(
    `SOPS file ${path} has no age recipients` +
      (others.length > 0 ? `; it is encrypted only for ${others.join(", ")} keys` : "") +
      ": unsupported key type, tcfs decrypts age only",
    {
      kind: SopsErrorKind.unsupportedKeyType,
      hint:
        `add an age recipient to the file's .sops.yaml rule and run \`sops updatekeys ${path}\``,
    },
  );
}

function encryptionRules(path: string, metadata: Map<unknown, unknown>): EncryptionRules {
  const text = (name: string): string | undefined => {
    const value = metadata.get(name);
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const regex = (name: string): RegExp | undefined => {
    const source = text(name);
    return source === undefined ? undefined : goRegExp(path, name, source);
  };
  const rules: EncryptionRules = {
    unencryptedSuffix: text("unencrypted_suffix"),
    encryptedSuffix: text("encrypted_suffix"),
    unencryptedRegex: regex("unencrypted_regex"),
    encryptedRegex: regex("encrypted_regex"),
    dependsOnComments: text("unencrypted_comment_regex") !== undefined ||
      text("encrypted_comment_regex") !== undefined,
    macOnlyEncrypted: metadata.get("mac_only_encrypted") === true,
  };
  const anyRule = rules.unencryptedSuffix ?? rules.encryptedSuffix ?? rules.unencryptedRegex ??
    rules.encryptedRegex;
  if (anyRule === undefined && !rules.dependsOnComments) {
    rules.unencryptedSuffix = DEFAULT_UNENCRYPTED_SUFFIX;
  }
  return rules;
}

/** Compiles a Go (RE2) pattern; JS lacks Go's leading flag group, such as `(?i)`. */
function goRegExp(path: string, name: string, source: string): RegExp {
  const flags = /^\(\?([ims]+)\)/.exec(source);
  try {
    return flags ? new RegExp(source.slice(flags[0].length), flags[1]) : new RegExp(source);
  } catch {
    throw new TcfsError(`SOPS file ${path}: ${name} is not a regular expression tcfs can use`, {
      kind: SopsErrorKind.unreadable,
    });
  }
}

/**
 * sops `shouldBeEncrypted`, for the rules that depend on the key path. Comment
 * rules depend on YAML comment placement, which a parsed tree does not keep; for
 * those files a leaf counts as encrypted when it has the `ENC[…]` form, which is
 * safe because the MAC still covers every leaf.
 */
function isEncryptedLeaf(rules: EncryptionRules, keys: string[], value: StoredValue): boolean {
  if (rules.dependsOnComments) return typeof value === "string" && ENCRYPTED_VALUE.test(value);
  let encrypted = true;
  if (rules.unencryptedSuffix !== undefined) {
    const suffix = rules.unencryptedSuffix;
    if (keys.some((key) => key.endsWith(suffix))) encrypted = false;
  }
  if (rules.encryptedSuffix !== undefined) {
    const suffix = rules.encryptedSuffix;
    encrypted = keys.some((key) => key.endsWith(suffix));
  }
  if (rules.unencryptedRegex !== undefined) {
    const pattern = rules.unencryptedRegex;
    if (keys.some((key) => pattern.test(key))) encrypted = false;
  }
  if (rules.encryptedRegex !== undefined) {
    const pattern = rules.encryptedRegex;
    encrypted = keys.some((key) => pattern.test(key));
  }
  return encrypted;
}

interface DecryptContext {
  path: string;
  dataKey: Uint8Array;
  rules: EncryptionRules;
  /** The MAC's input, appended in document order. */
  macInput: Uint8Array[];
}

function decryptTree(value: StoredValue, at: LeafPath, context: DecryptContext): SopsValue {
  if (value instanceof Map) {
    return Object.fromEntries(
      [...value].map(([key, child]) => {
        const name = String(key);
        return [
          name,
          decryptTree(child, {
            keys: [...at.keys, name],
            label: at.label === "" ? name : `${at.label}.${name}`,
          }, context),
        ];
      }),
    );
  }
  // List items share their list's key path: sops adds no index to the AAD.
  // A comment inside a list is stored as an item of type comment; it is not
  // data, and no sops release includes it in the MAC it writes.
  if (Array.isArray(value)) {
    return value.flatMap((item, index) =>
      isListComment(item)
        ? []
        : [decryptTree(item, { keys: at.keys, label: `${at.label}[${index}]` }, context)]
    );
  }
  if (value === null) return null;
  const encrypted = isEncryptedLeaf(context.rules, at.keys, value);
  const leaf = encrypted ? decryptLeaf(value, at, context) : plaintextLeaf(value);
  if (encrypted || !context.rules.macOnlyEncrypted) context.macInput.push(leaf.macBytes);
  return leaf.value;
}

function isListComment(item: StoredValue): boolean {
  return typeof item === "string" && ENCRYPTED_VALUE.exec(item)?.[4] === "comment";
}

function plaintextLeaf(
  value: string | number | boolean,
): { value: SopsValue; macBytes: Uint8Array } {
  const text = typeof value === "string"
    ? value
    : typeof value === "boolean"
    ? goBool(value)
    : goFloat(value);
  return { value, macBytes: new TextEncoder().encode(text) };
}

function decryptLeaf(
  value: string | number | boolean,
  at: LeafPath,
  context: DecryptContext,
): { value: SopsValue; macBytes: Uint8Array } {
  // sops leaves empty strings as they are.
  if (value === "") return { value, macBytes: new Uint8Array() };
  const corrupt = (problem: string) =>
    new TcfsError(`SOPS file ${context.path}: the value of ${at.label} ${problem}`, {
      kind: SopsErrorKind.corruptValue,
      hint: "restore the file from version control, or re-create the value with `sops edit`",
    });
  if (typeof value !== "string" || !ENCRYPTED_VALUE.test(value)) {
    throw corrupt("is not encrypted, but the file's rules say it should be");
  }
  const plaintext = openValue(value, `${at.keys.join(":")}:`, context.dataKey);
  if (plaintext === undefined) {
    throw corrupt("cannot be decrypted: it was altered, or moved from another key");
  }
  const type = ENCRYPTED_VALUE.exec(value)![4];
  const converted = convertPlaintext(plaintext, type);
  if (converted === undefined) throw corrupt(`does not decrypt to a valid value of type ${type}`);
  return converted;
}

/** Decrypts one `ENC[…]` string; `undefined` when it is malformed or fails authentication. */
function openValue(encrypted: string, aad: string, dataKey: Uint8Array): Uint8Array | undefined {
  const [, data, iv, tag] = ENCRYPTED_VALUE.exec(encrypted)!;
  try {
    const ciphertext = decodeBase64(data);
    const tagBytes = decodeBase64(tag);
    if (tagBytes.length !== 16) return undefined;
    const sealed = new Uint8Array(ciphertext.length + tagBytes.length);
    sealed.set(ciphertext);
    sealed.set(tagBytes, ciphertext.length);
    return gcm(dataKey, decodeBase64(iv), new TextEncoder().encode(aad)).decrypt(sealed);
  } catch {
    return undefined;
  }
}

/**
 * The typed value of a decrypted plaintext, and the bytes sops's `ToBytes`
 * would hash for it (which re-formats ints, floats and bools).
 */
function convertPlaintext(
  plaintext: Uint8Array,
  type: string,
): { value: SopsValue; macBytes: Uint8Array } | undefined {
  const text = new TextDecoder().decode(plaintext);
  const typed = (value: SopsValue, canonical: string) => ({
    value,
    macBytes: new TextEncoder().encode(canonical),
  });
  switch (type) {
    case "str":
    case "bytes":
    case "time":
      return { value: text, macBytes: plaintext };
    case "int":
      return /^[+-]?\d+$/.test(text) ? typed(Number(text), BigInt(text).toString()) : undefined;
    case "float": {
      const value = parseGoFloat(text);
      return value === undefined ? undefined : typed(value, goFloat(value));
    }
    case "bool": {
      const value = parseGoBool(text);
      return value === undefined ? undefined : typed(value, goBool(value));
    }
    default:
      return undefined;
  }
}

async function verifyMac(
  path: string,
  metadata: Map<unknown, unknown>,
  dataKey: Uint8Array,
  macInput: Uint8Array[],
): Promise<void> {
  const stored = metadata.get("mac");
  const lastModified = metadata.get("lastmodified");
  const mismatch = (problem: string) =>
    new TcfsError(`SOPS file ${path}: MAC mismatch, ${problem}`, {
      kind: SopsErrorKind.macMismatch,
      hint: "the file was altered outside sops; restore it from version control, " +
        "or check it with `sops decrypt`",
    });
  if (typeof stored !== "string" || !ENCRYPTED_VALUE.test(stored)) {
    throw mismatch("the file has no MAC");
  }
  const opened = openValue(stored, String(lastModified ?? ""), dataKey);
  if (opened === undefined) {
    throw mismatch("its MAC cannot be decrypted (the mac or lastmodified field was changed)");
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", concatBytes(macInput)));
  const computed = Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("")
    .toUpperCase();
  if (new TextDecoder().decode(opened) !== computed) {
    throw mismatch("the values do not match the MAC sops recorded");
  }
}

function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** Go `strconv.ParseBool`. */
function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

/** sops `ToBytes` for a bool. */
function goBool(value: boolean): string {
  return value ? "True" : "False";
}

/** Go `strconv.ParseFloat(text, 64)` for the forms sops writes. */
function parseGoFloat(text: string): number | undefined {
  const infinity = /^([+-]?)inf(inity)?$/i.exec(text);
  if (infinity) return infinity[1] === "-" ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const value = Number(text);
  return text.trim() === "" || Number.isNaN(value) ? undefined : value;
}

/** Go `strconv.FormatFloat(value, 'f', -1, 64)`: shortest digits, never an exponent. */
function goFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  const text = String(value);
  const exponential = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exponential) return text;
  const [, sign, lead, fraction = "", exponentText] = exponential;
  const digits = lead + fraction;
  const exponent = Number(exponentText);
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const point = exponent + 1;
  return digits.length <= point
    ? sign + digits.padEnd(point, "0")
    : `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
