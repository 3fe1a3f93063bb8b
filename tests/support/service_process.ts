/**
 * A long-running server a test starts as a child process: its output goes to a log file, it
 * can be waited on until it answers, and stopping it leaves no process or stream behind (so
 * Deno's resource sanitizer stays quiet).
 *
 * @module
 */

import { atModuleUnload } from "./module_unload.ts";

/** How to start a {@linkcode ServiceProcess}. */
export interface ServiceProcessOptions {
  /** Name used in error messages, e.g. "SeaweedFS". */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here, so a restart keeps the earlier output. */
  logPath: string;
}

/** A running child process; see {@linkcode spawnService}. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** True once the process has exited, for whatever reason. */
  readonly exited: boolean;
  /**
   * Polls `answers` until it returns true. Fails with the log's last lines when the process
   * exits first or `timeoutMs` passes.
   */
  waitUntilAnswering(answers: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** Sends SIGTERM, then SIGKILL if the process is still alive after 10 s, and waits for it. */
  stop(): Promise<void>;
}

const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const LOG_TAIL_LINES = 30;

/**
 * Starts `command` with its output appended to `logPath`.
 *
 * @example
 * ```ts
 * const nats = await spawnService({
 *   name: "nats-server",
 *   command: "nats-server",
 *   args: ["-js", "-a", "127.0.0.1", "-p", "14999"],
 *   logPath: "/tmp/nats.log",
 * });
 * await nats.stop();
 * ```
 */
export async function spawnService(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const log = await Deno.open(options.logPath, { create: true, append: true });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(options.command, {
      args: options.args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    log.close();
    throw new Error(
      `could not start ${options.name} (${options.command}): ${error}; run scripts/setup.sh`,
      { cause: error },
    );
  }
  const output = Promise.all([copyInto(child.stdout, log), copyInto(child.stderr, log)])
    .finally(() => log.close());
  // A test that fails before stopping its server must not leave it running after the module.
  const cancelKill = atModuleUnload(() => Deno.kill(child.pid, "SIGTERM"));
  let exited = false;
  const status = child.status.finally(() => {
    exited = true;
    cancelKill();
  });

  return {
    name: options.name,
    pid: child.pid,
    logPath: options.logPath,
    get exited() {
      return exited;
    },
    async waitUntilAnswering(answers, timeoutMs = DEFAULT_STARTUP_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (!(await answers())) {
        if (exited) {
          throw new Error(
            `${options.name} exited during startup (${describeStatus(await status)})` +
              await logTail(options.logPath),
          );
        }
        if (Date.now() > deadline) {
          throw new Error(
            `${options.name} did not answer within ${timeoutMs / 1000}s` +
              await logTail(options.logPath),
          );
        }
        await delay(200);
      }
    },
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        let timer: ReturnType<typeof setTimeout> | undefined;
        const gaveUp = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), STOP_GRACE_MS);
        });
        if (await Promise.race([status, gaveUp]) === "timeout" && !exited) child.kill("SIGKILL");
        clearTimeout(timer);
      }
      await status;
      await output;
    },
  };
}

async function copyInto(stream: ReadableStream<Uint8Array>, file: Deno.FsFile): Promise<void> {
  for await (let chunk of stream) {
    while (chunk.length > 0) chunk = chunk.subarray(await file.write(chunk));
  }
}

function describeStatus(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
}

async function logTail(logPath: string): Promise<string> {
  const text = await Deno.readTextFile(logPath).catch(() => "");
  const lines = text.trimEnd().split("\n").slice(-LOG_TAIL_LINES).join("\n");
  return `; last lines of ${logPath}:\n${lines}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
