/**
 * The real sops, age-keygen and keepassxc-cli for credential tests. A missing
 * tool fails the test with what to run; it never skips.
 *
 * @module
 */

import { join } from "node:path";

const REPO = new URL("../../../", import.meta.url).pathname;

/** What a tool printed and returned. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An age key pair made by `age-keygen`. */
export interface AgeKey {
  /** The key file `age-keygen -o` wrote (comments and one identity). */
  keyFile: string;
  /** `AGE-SECRET-KEY-1…` */
  secretKey: string;
  /** `age1…`, from `age-keygen -y`. */
  recipient: string;
}

/**
 * The path of a tool, from PATH, `.tools/bin` or `$HOME/go/bin`.
 *
 * @example
 * ```ts
 * const sops = await toolPath("sops");
 * ```
 */
export async function toolPath(name: string): Promise<string> {
  const dirs = [
    ...(Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir !== ""),
    join(REPO, ".tools/bin"),
    join(Deno.env.get("HOME") ?? "/root", "go/bin"),
  ];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      if ((await Deno.stat(candidate)).isFile) return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `${name} is not installed (looked in PATH, .tools/bin and ~/go/bin): run scripts/setup.sh`,
  );
}

/**
 * Runs a tool with exactly `env` (nothing inherited but PATH), feeding `stdin`.
 *
 * @example
 * ```ts
 * const { stdout } = await runTool("age-keygen", ["-y", "key.txt"], { cwd: dir });
 * ```
 */
export async function runTool(
  name: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<ToolResult> {
  const child = new Deno.Command(await toolPath(name), {
    args,
    cwd: options.cwd,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: options.cwd, ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/**
 * Like {@linkcode runTool}, but throws with the tool's stderr when it fails.
 *
 * @example
 * ```ts
 * const json = await mustRunTool("sops", ["decrypt", "--output-type", "json", "s.yaml"], { cwd });
 * ```
 */
export async function mustRunTool(
  name: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: string },
): Promise<string> {
  const result = await runTool(name, args, options);
  if (result.code !== 0) {
    throw new Error(`${name} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Makes an age key pair with `age-keygen` in `dir`.
 *
 * @example
 * ```ts
 * const key = await makeAgeKey(dir, "host1");
 * ```
 */
export async function makeAgeKey(dir: string, name: string): Promise<AgeKey> {
  const keyFile = join(dir, `${name}.txt`);
  await mustRunTool("age-keygen", ["-o", keyFile], { cwd: dir });
  const recipient = (await mustRunTool("age-keygen", ["-y", keyFile], { cwd: dir })).trim();
  const secretKey = (await Deno.readTextFile(keyFile)).split("\n")
    .find((line) => line.startsWith("AGE-SECRET-KEY-1"))!;
  return { keyFile, secretKey, recipient };
}

/**
 * What `sops decrypt --output-type json` gives for `file`, with the key file given.
 *
 * @example
 * ```ts
 * const expected = await sopsDecryptJson(dir, "secrets.yaml", key.keyFile);
 * ```
 */
export async function sopsDecryptJson(
  cwd: string,
  file: string,
  keyFile: string,
): Promise<unknown> {
  const stdout = await mustRunTool("sops", ["decrypt", "--output-type", "json", file], {
    cwd,
    env: { SOPS_AGE_KEY_FILE: keyFile },
  });
  return JSON.parse(stdout);
}

/**
 * Writes `text` to `dir/name` and encrypts it in place with `sops` for the
 * recipients (via `SOPS_AGE_RECIPIENTS`). Returns the file's path.
 *
 * @example
 * ```ts
 * const file = await sopsEncryptFile(dir, "secrets.yaml", "s3_access: AK\n", [key.recipient]);
 * ```
 */
export async function sopsEncryptFile(
  dir: string,
  name: string,
  text: string,
  recipients: string[],
): Promise<string> {
  const file = join(dir, name);
  await Deno.writeTextFile(file, text);
  await mustRunTool("sops", ["encrypt", "--in-place", file], {
    cwd: dir,
    env: { SOPS_AGE_RECIPIENTS: recipients.join(",") },
  });
  return file;
}

/** The entry a test KDBX holds. */
export interface KdbxTestEntry {
  /** `group/Title`, e.g. `tcfs/s3`. */
  path: string;
  userName: string;
  password: string;
  url: string;
}

/**
 * Makes a KDBX 3.1 (AES-KDF) database the way users do, with `keepassxc-cli
 * db-create`, `mkdir` and `add`, unlocked by a password or by a key file alone.
 *
 * @example
 * ```ts
 * const db = await makeKeepassxcDatabase(dir, { password: "pw" }, {
 *   path: "tcfs/s3", userName: "AK", password: "secret", url: "http://127.0.0.1:8333",
 * });
 * ```
 */
export async function makeKeepassxcDatabase(
  dir: string,
  unlock: { password: string } | { keyFile: string },
  entry: KdbxTestEntry,
): Promise<string> {
  const db = join(dir, "keepassxc.kdbx");
  const withKeyFile = "keyFile" in unlock;
  const create = withKeyFile ? ["--set-key-file", unlock.keyFile] : ["-p"];
  const open = withKeyFile ? ["--no-password", "-k", unlock.keyFile] : [];
  const passwordLine = withKeyFile ? "" : `${unlock.password}\n`;
  // The lowest decryption time keepassxc-cli accepts keeps the AES-KDF rounds small.
  await mustRunTool("keepassxc-cli", ["db-create", "-t", "100", ...create, db], {
    cwd: dir,
    stdin: passwordLine.repeat(2),
  });
  const group = entry.path.split("/").slice(0, -1).join("/");
  await mustRunTool("keepassxc-cli", ["mkdir", ...open, db, group], {
    cwd: dir,
    stdin: passwordLine,
  });
  await mustRunTool(
    "keepassxc-cli",
    ["add", ...open, "-p", "-u", entry.userName, "--url", entry.url, db, entry.path],
    { cwd: dir, stdin: `${passwordLine}${entry.password}\n` },
  );
  return db;
}
