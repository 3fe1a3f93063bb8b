/**
 * The env file `~/.config/tcfs/env`: `KEY=value` lines that systemd (`EnvironmentFile=`) and
 * launchd load for the daemon, and that tcfs also reads itself at start-up, so the CLI sees the
 * same settings as the service.
 *
 * The syntax is the part of systemd's that means the same to systemd and to a shell:
 * `#` or `;` comment lines, an optional `export ` prefix, values bare or in single or double
 * quotes, and no variable expansion (`$HOME` stays literal). A bare value runs to the end of the
 * line, `#` included, as in systemd. Anything ambiguous (text after a closing quote, a trailing
 * backslash that would continue the line) is refused rather than guessed.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { ExitCode, TcfsError } from "../core/errors.ts";
import { readUpTo } from "../core/io/byte_reader.ts";
import { envSecretNames } from "../core/credentials/env_source.ts";
import { refuseSharedSecrets } from "../core/credentials/private_file.ts";

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters a backslash escapes inside double quotes; before others it stays literal. */
const DOUBLE_QUOTE_ESCAPABLE = new Set(['"', "\\", "$", "`"]);

type LineResult = { name: string; value: string } | { problem: string } | undefined;
type ValueResult = { value: string } | { problem: string };

/**
 * Parses the text of an env file. Later lines win over earlier ones with the same name.
 * Error messages name the file, the line number and the variable, never a value.
 *
 * @param text The file's contents.
 * @param path The file's path, for error messages.
 * @throws {TcfsError} (kind `env_file_invalid`) on a malformed line.
 *
 * @example
 * ```ts
 * parseEnvFile('# tcfs\nexport TCFS_S3_BUCKET="tcfs"\nTCFS_NAMESPACE=lab\n', "env");
 * // { TCFS_S3_BUCKET: "tcfs", TCFS_NAMESPACE: "lab" }
 * ```
 */
export function parseEnvFile(text: string, path: string): Record<string, string> {
  const vars: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, index) => {
    const result = parseLine(line);
    if (result === undefined) return;
    if ("problem" in result) {
      throw new TcfsError(`env file ${path} line ${index + 1}: ${result.problem}`, {
        hint: `fix line ${index + 1} of ${path}: write NAME=value, and quote values with ` +
          `spaces as NAME="a b" or NAME='a b'`,
        exitCode: ExitCode.usage,
        kind: "env_file_invalid",
      });
    }
    vars[result.name] = result.value;
  });
  return vars;
}

/**
 * Reads and parses an env file. A missing file is an empty environment.
 *
 * @param path The env file, usually `tcfsPaths().envFile`.
 * @throws {TcfsError} when the file cannot be read or has a malformed line.
 *
 * @example
 * ```ts
 * const fileEnv = await readEnvFile(tcfsPaths().envFile);
 * ```
 */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  let text: string;
  let mode: number | null;
  try {
    using file = await Deno.open(path, { read: true });
    const info = await file.stat();
    mode = info.mode;
    text = new TextDecoder().decode(await readUpTo(file, new Uint8Array(info.size)));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return {};
    throw new TcfsError(`cannot read env file ${path}: ${(err as Error).message}`, {
      hint: `make ${path} a regular file readable by you (mode 0600), or remove it`,
      kind: "env_file_invalid",
      cause: err,
    });
  }
  const vars = parseEnvFile(text, path);
  const secrets = envSecretNames(vars);
  if (secrets.length > 0) {
    refuseSharedSecrets({ what: "env file", path, holds: secrets.join(", ") }, mode);
  }
  return vars;
}

/**
 * Merges an env file's variables under the real environment: a variable set in the real
 * environment wins, even when it is empty, so one command line can override the file.
 *
 * @param fileEnv Variables from {@linkcode readEnvFile}.
 * @param realEnv The process environment.
 *
 * @example
 * ```ts
 * mergeEnv({ TCFS_NAMESPACE: "lab", TCFS_S3_BUCKET: "tcfs" }, { TCFS_NAMESPACE: "test" });
 * // { TCFS_NAMESPACE: "test", TCFS_S3_BUCKET: "tcfs" }
 * ```
 */
export function mergeEnv(
  fileEnv: Record<string, string>,
  realEnv: Record<string, string | undefined>,
): Record<string, string> {
  const merged = { ...fileEnv };
  for (const [name, value] of Object.entries(realEnv)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

/** What {@linkcode updateEnvFile} did, by variable name (never values). */
export interface EnvFileUpdate {
  /** Variables that were not in the file. */
  added: string[];
  /** Variables whose value was replaced. */
  changed: string[];
  /** Variables that already had the value. */
  unchanged: string[];
}

/**
 * Formats one `NAME="value"` line that this parser, systemd's `EnvironmentFile=` and a POSIX
 * shell all read back as exactly `value`: double quotes, with `"`, `\`, `$` and `` ` ``
 * escaped by a backslash.
 *
 * @throws {TcfsError} (kind `env_file_invalid`) for a bad name, or a value with a line break or
 *   NUL, which no env file line can hold.
 *
 * @example
 * ```ts
 * formatEnvAssignment("TCFS_SYNC_ROOT", "/home/ada/My Files"); // 'TCFS_SYNC_ROOT="/home/ada/My Files"'
 * ```
 */
export function formatEnvAssignment(name: string, value: string): string {
  if (!NAME_PATTERN.test(name) || /[\r\n\0]/.test(value)) {
    throw new TcfsError(
      `cannot write ${name} to an env file: ${
        NAME_PATTERN.test(name) ? "its value has a line break or NUL" : "it is not a variable name"
      }`,
      { kind: "env_file_invalid", exitCode: ExitCode.usage },
    );
  }
  return `${name}="${value.replace(/["\\$`]/g, (char) => `\\${char}`)}"`;
}

/**
 * Sets variables in an env file and keeps everything else: other variables, comments and
 * order stay as they were; a variable already set is rewritten in place, a new one appended.
 * The file is replaced atomically and left with mode 0600, since it may hold credentials.
 *
 * @throws {TcfsError} (kind `env_file_invalid`) when the existing file has a malformed line,
 *   so that a file tcfs can't read is never rewritten.
 *
 * @example
 * ```ts
 * const update = await updateEnvFile(tcfsPaths().envFile, { TCFS_NATS_URL: "nats://yoga.local:4222" });
 * console.log(update.changed); // names only
 * ```
 */
export async function updateEnvFile(
  path: string,
  values: Record<string, string>,
): Promise<EnvFileUpdate> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const current = parseEnvFile(text, path);
  const update: EnvFileUpdate = { added: [], changed: [], unchanged: [] };
  for (const [name, value] of Object.entries(values)) {
    if (!(name in current)) update.added.push(name);
    else if (current[name] !== value) update.changed.push(name);
    else update.unchanged.push(name);
  }
  const lines = text === "" ? [ENV_FILE_HEADER] : text.replace(/\r?\n$/, "").split(/\r?\n/);
  const rewritten = lines.map((line) => {
    const parsed = parseLine(line);
    return parsed && "name" in parsed && update.changed.includes(parsed.name)
      ? formatEnvAssignment(parsed.name, values[parsed.name])
      : line;
  });
  for (const name of update.added) rewritten.push(formatEnvAssignment(name, values[name]));
  if (update.added.length > 0 || update.changed.length > 0 || text === "") {
    await replaceFile(path, rewritten.join("\n") + "\n");
  } else {
    await Deno.chmod(path, 0o600);
  }
  return update;
}

const ENV_FILE_HEADER = "# tcfs settings and credentials for the daemon (systemd EnvironmentFile " +
  "syntax); tcfs reads this file too. Keep it mode 0600.";

async function replaceFile(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    await Deno.writeTextFile(temp, text, { mode: 0o600, createNew: true });
    await Deno.chmod(temp, 0o600);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

function parseLine(line: string): LineResult {
  const content = line.trimStart();
  if (content === "" || content.startsWith("#") || content.startsWith(";")) return undefined;
  const assignment = content.replace(/^export\s+/, "");
  const equals = assignment.indexOf("=");
  if (equals < 0) return { problem: "expected NAME=value" };
  const name = assignment.slice(0, equals).trim();
  if (!NAME_PATTERN.test(name)) {
    return {
      problem: "expected NAME=value, where NAME is letters, digits and underscores " +
        "and does not start with a digit",
    };
  }
  const value = parseValue(assignment.slice(equals + 1).trimStart());
  return "problem" in value
    ? { problem: `${name}: ${value.problem}` }
    : { name, value: value.value };
}

function parseValue(text: string): ValueResult {
  if (text.startsWith("'")) {
    const close = text.indexOf("'", 1);
    if (close < 0) return { problem: "the single quote is not closed on this line" };
    return afterQuote(text.slice(1, close), text.slice(close + 1));
  }
  if (text.startsWith('"')) return parseDoubleQuoted(text);
  return parseBare(text);
}

function parseDoubleQuoted(text: string): ValueResult {
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const char = text[i];
    if (char === '"') return afterQuote(value, text.slice(i + 1));
    if (char === "\\" && i + 1 < text.length) {
      const next = text[++i];
      value += DOUBLE_QUOTE_ESCAPABLE.has(next) ? next : char + next;
    } else {
      value += char;
    }
  }
  return { problem: "the double quote is not closed on this line" };
}

function afterQuote(value: string, rest: string): ValueResult {
  if (rest.trim() !== "") {
    return { problem: "unexpected text after the closing quote (put comments on their own line)" };
  }
  return { value };
}

/** A bare value: a backslash keeps the next character literally; trailing whitespace is dropped. */
function parseBare(text: string): ValueResult {
  let value = "";
  let significantLength = 0;
  for (let i = 0; i < text.length; i++) {
    let char = text[i];
    const escaped = char === "\\";
    if (escaped) {
      if (i + 1 === text.length) {
        return { problem: "a trailing backslash (line continuation) is not supported" };
      }
      char = text[++i];
    }
    value += char;
    if (escaped || !/\s/.test(char)) significantLength = value.length;
  }
  return { value: value.slice(0, significantLength) };
}
