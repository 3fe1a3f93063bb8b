/**
 * A device for tests: its own HOME (so its own config, state and identity)
 * and a runner for the real CLI through scripts/tcfs, exactly as shipped.
 *
 * @module
 */

import { join } from "node:path";

const REPO = new URL("../../", import.meta.url).pathname;

/** What one CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A test device. */
export interface DeviceHome {
  name: string;
  home: string;
  env: Record<string, string>;
  /** Runs `tcfs args…` as this device. */
  tcfs(
    args: string[],
    options?: { env?: Record<string, string>; cwd?: string },
  ): Promise<CliResult>;
  /** Runs tcfs and parses its --json output, failing loudly on a non-zero exit. */
  tcfsJson<T>(args: string[], options?: { allowCodes?: number[] }): Promise<T>;
}

/**
 * Makes a device home under `parent`, sharing the store that `storeEnv`
 * describes (TCFS_S3_* variables, or TCFS_S3_ENDPOINT=file:///dir).
 *
 * @example
 * ```ts
 * const a = await makeDeviceHome(tmp, "devA", { TCFS_S3_ENDPOINT: `file://${tmp}/store` });
 * await a.tcfs(["push", join(a.home, "docs")]);
 * ```
 */
export async function makeDeviceHome(
  parent: string,
  name: string,
  storeEnv: Record<string, string>,
): Promise<DeviceHome> {
  const home = join(parent, name);
  await Deno.mkdir(home, { recursive: true });
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: home,
    DENO_DIR: Deno.env.get("DENO_DIR") ?? join(REPO, ".tools/deno-dir"),
    TCFS_DEVICE_NAME: name,
    ...storeEnv,
  };
  const tcfs = async (
    args: string[],
    options: { env?: Record<string, string>; cwd?: string } = {},
  ) => {
    const output = await new Deno.Command(join(REPO, "scripts/tcfs"), {
      args,
      env: { ...env, ...options.env },
      clearEnv: true,
      cwd: options.cwd ?? home,
      stdin: "null",
    }).output();
    return cliResult(output);
  };
  return {
    name,
    home,
    env,
    tcfs,
    async tcfsJson<T>(args: string[], options: { allowCodes?: number[] } = {}) {
      const result = await tcfs([...args, "--json"]);
      if (result.code !== 0 && !(options.allowCodes ?? []).includes(result.code)) {
        throw new Error(
          `tcfs ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`,
        );
      }
      return JSON.parse(result.stdout) as T;
    },
  };
}

/**
 * Devices named `names`, each with its own home under `parent`, sharing the `file://` store
 * `parent/store`. Each has its own daemon socket, so none ever talks to a daemon that happens
 * to answer the default one.
 *
 * @example
 * ```ts
 * const [a, b] = await makeFileStoreDevices(tmp, "devA", "devB");
 * ```
 */
export async function makeFileStoreDevices(
  parent: string,
  ...names: string[]
): Promise<DeviceHome[]> {
  return await Promise.all(names.map((name) =>
    makeDeviceHome(parent, name, {
      TCFS_S3_ENDPOINT: `file://${parent}/store`,
      TCFS_SOCKET: join(parent, `${name}.sock`),
    })
  ));
}

/**
 * A finished CLI process as a {@linkcode CliResult}, with its output decoded.
 *
 * @example
 * ```ts
 * const result = cliResult(await new Deno.Command("scripts/tcfs", { args }).output());
 * ```
 */
export function cliResult(output: Deno.CommandOutput): CliResult {
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
