/**
 * systemd's readiness protocol (sd_notify): `READY=1` once the service serves, `STOPPING=1`
 * when it shuts down, and `WATCHDOG=1` pings when the unit sets `WatchdogSec=`.
 *
 * The protocol is a datagram on the Unix socket `$NOTIFY_SOCKET`, and Deno can send Unix
 * datagrams only behind `--unstable-net`. So each message is sent by `systemd-notify`, which
 * ships with systemd wherever `NOTIFY_SOCKET` can be set, and waits (`BARRIER=1`) until systemd
 * has read it. It is told the daemon's pid (`--pid`), which the kernel lets it claim only as
 * root; otherwise the message comes from its own pid, so a user unit needs `NotifyAccess=all`
 * next to `Type=notify`.
 *
 * @module
 */

import { childEnv } from "./child_env.ts";

/** Sends readiness messages; every method is a no-op outside systemd. */
export interface SdNotifier {
  /** Whether `$NOTIFY_SOCKET` is set. */
  readonly enabled: boolean;
  /** `READY=1` with a status line. */
  ready(status: string): Promise<void>;
  /** `STOPPING=1` with a status line. */
  stopping(status: string): Promise<void>;
  /** Pings the watchdog every `WATCHDOG_USEC / 2` when it is enabled; returns a stop function. */
  startWatchdog(): () => void;
}

/** Options for {@linkcode createSdNotifier}. */
export interface SdNotifierOptions {
  /** The environment to read `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from. */
  env: Record<string, string | undefined>;
  /** Reports a message that could not be sent (it never throws). */
  warn: (message: string) => void;
  /** The notifier program; `systemd-notify` on `PATH` by default. */
  command?: string;
}

/**
 * How often to ping the watchdog, in ms: half of `WATCHDOG_USEC`, or `undefined` when the
 * watchdog is off or meant for another process (`WATCHDOG_PID`).
 *
 * @example
 * ```ts
 * watchdogIntervalMs({ WATCHDOG_USEC: "30000000" }, 42); // 15000
 * ```
 */
export function watchdogIntervalMs(
  env: Record<string, string | undefined>,
  pid: number,
): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/**
 * Creates a notifier for the socket named in `env`.
 *
 * @example
 * ```ts
 * const notifier = createSdNotifier({ env: Deno.env.toObject(), warn: console.warn });
 * await notifier.ready("serving on /run/user/1000/tcfsd.sock");
 * const stopWatchdog = notifier.startWatchdog();
 * ```
 */
export function createSdNotifier(options: SdNotifierOptions): SdNotifier {
  const socket = options.env.NOTIFY_SOCKET;
  const command = options.command ?? "systemd-notify";
  const send = async (assignments: string[]) => {
    if (!socket) return;
    try {
      const { success, stderr } = await new Deno.Command(command, {
        args: [`--pid=${Deno.pid}`, ...assignments],
        // The service's environment holds its secrets (S3 keys, passphrases): pass none of it.
        env: childEnv(options.env, ["NOTIFY_SOCKET", "PATH"]),
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!success) {
        options.warn(
          `${command} ${assignments[0]} failed: ${new TextDecoder().decode(stderr).trim()}`,
        );
      }
    } catch (err) {
      options.warn(
        `cannot tell systemd ${assignments[0]}: running ${command} failed: ` +
          `${(err as Error).message}`,
      );
    }
  };
  return {
    enabled: socket !== undefined && socket !== "",
    ready: (status) => send(["READY=1", `STATUS=${status}`]),
    stopping: (status) => send(["STOPPING=1", `STATUS=${status}`]),
    startWatchdog() {
      const interval = watchdogIntervalMs(options.env, Deno.pid);
      if (!socket || interval === undefined) return () => {};
      const timer = setInterval(() => void send(["WATCHDOG=1"]), interval);
      return () => clearInterval(timer);
    },
  };
}
