/**
 * `tcfs mount` run as a test device, in the background: started, waited for until mounted,
 * and stopped with `tcfs unmount`, reporting what it fetched from the store.
 *
 * @module
 */

import { join } from "node:path";
import type { CliResult, DeviceHome } from "./device_home.ts";
import { trueWithin } from "./deadlines.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** What the mount printed when it ended. */
export interface MountEnd {
  chunks_downloaded: number;
  bytes_downloaded: number;
  cache_bytes: number;
}

/** A running mount. */
export interface RunningMount {
  mountpoint: string;
  process: Deno.ChildProcess;
  /** Unmounts and waits for the process: what it fetched. */
  unmount(): Promise<MountEnd>;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /**
   * Waits until its stderr matches `pattern` (what it wrote may still be in the pipe when the
   * call that made it write returns); throws after `ms`.
   */
  stderrMatching(pattern: RegExp, ms?: number): Promise<void>;
}

/**
 * Mounts `remote` (or the namespace) of `device` at a new folder under `parent` (or at
 * `options.mountpoint`, e.g. to mount a folder again).
 *
 * @example
 * ```ts
 * const mount = await startMount(a, tmp);
 * try { await Deno.readFile(join(mount.mountpoint, "a.txt")); } finally { await mount.unmount(); }
 * ```
 */
export async function startMount(
  device: Pick<DeviceHome, "env" | "home"> & { tcfs(args: string[]): Promise<CliResult> },
  parent: string,
  options: { remote?: string; args?: string[]; mountpoint?: string } = {},
): Promise<RunningMount> {
  const mountpoint = options.mountpoint ??
    await Deno.makeTempDir({ dir: parent, prefix: "mnt-" });
  const process = new Deno.Command(join(REPO, "scripts/tcfs"), {
    args: [
      "mount",
      ...(options.remote ? [options.remote] : []),
      mountpoint,
      "--json",
      ...(options.args ?? []),
    ],
    env: device.env,
    clearEnv: true,
    cwd: device.home,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errors = "";
  (async () => {
    for await (const text of process.stderr.pipeThrough(new TextDecoderStream())) errors += text;
  })();
  const lines = stdoutLines(process.stdout);
  const first = await lines.next();
  if (first.done || JSON.parse(first.value).event !== "mounted") {
    await process.status;
    throw new Error(`tcfs mount did not mount: ${first.value ?? ""}\n${errors}`);
  }
  return {
    mountpoint,
    process,
    stderr: () => errors,
    stderrMatching: (pattern, ms = 10_000) =>
      trueWithin(() => pattern.test(errors), ms, () => `stderr to match ${pattern}:\n${errors}`),
    async unmount() {
      const result = await device.tcfs(["unmount", "--lazy", mountpoint]);
      if (result.code !== 0) throw new Error(`tcfs unmount failed: ${result.stderr}`);
      const last = await lines.next();
      await process.status;
      if (last.done) throw new Error(`tcfs mount ended without a report\n${errors}`);
      return JSON.parse(last.value) as MountEnd;
    },
  };
}

/** The lines of a child's stdout, one at a time. */
async function* stdoutLines(stdout: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stdout.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  if (pending) yield pending;
}
