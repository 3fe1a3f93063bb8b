/**
 * One writer per device state: an OS file lock (flock) on a file beside the state db. The
 * daemon holds it for its life; a CLI command that writes state (push, pull, resolve-conflict)
 * holds it while it runs. Two writers with one device state would pick the same version keys
 * and race on the same tracked rows. The lock goes with its process, so a crash never leaves
 * it held; the file only names the holder, for messages.
 *
 * @module
 */

import { dirname } from "node:path";
import { TcfsError } from "../errors.ts";

/** Who holds a writer lock, as its holder recorded. */
export interface WriterLockHolder {
  pid: number;
  /** What it is: `daemon`, `tcfs push`, … */
  role: string;
  /** When it took the lock. */
  since: string;
}

/** A held writer lock; released by `release()`, disposal or the process's exit. */
export interface WriterLock extends Disposable {
  readonly path: string;
  release(): void;
}

/** What one try found: the lock, or who holds it (`undefined` while it writes its record). */
export type WriterLockAttempt = { lock: WriterLock } | { holder: WriterLockHolder | undefined };

/** How {@linkcode acquireWriterLock} waits. */
export interface WriterLockWait {
  /** Recorded in the lock file for whoever waits. */
  role: string;
  /** How long to wait for a holder to finish. */
  timeoutMs: number;
  /** Called once, when the lock is held by another: a note for the user. */
  onWait?: (holder: WriterLockHolder | undefined) => void;
  /**
   * Asked after each failed try: an error it returns for the holder is thrown at once,
   * for a holder that will not let go (a daemon serving another store).
   */
  refuse?: (holder: WriterLockHolder | undefined) => TcfsError | undefined;
  /** Asked after each failed try; true ends the wait without the lock (`undefined`). */
  giveWay?: () => Promise<boolean>;
}

/** The default of `TCFS_LOCK_TIMEOUT_SECS`. */
const DEFAULT_LOCK_TIMEOUT_SECS = 60;

const POLL_MS = 200;

/**
 * The lock file of the state db at `stateDb`.
 *
 * @example
 * ```ts
 * writerLockPath("/home/ada/.local/state/tcfs/state.db"); // ".../state.db.lock"
 * ```
 */
export function writerLockPath(stateDb: string): string {
  return `${stateDb}.lock`;
}

/**
 * How long to wait for the lock, from `TCFS_LOCK_TIMEOUT_SECS` (default 60 s).
 *
 * @throws {TcfsError} when the variable is not a number of seconds.
 *
 * @example
 * ```ts
 * lockTimeoutMs({ TCFS_LOCK_TIMEOUT_SECS: "5" }); // 5000
 * ```
 */
export function lockTimeoutMs(env: Record<string, string | undefined>): number {
  const text = env.TCFS_LOCK_TIMEOUT_SECS?.trim();
  if (!text) return DEFAULT_LOCK_TIMEOUT_SECS * 1000;
  const secs = Number(text);
  if (!Number.isFinite(secs) || secs < 0) {
    throw new TcfsError(
      `TCFS_LOCK_TIMEOUT_SECS=${JSON.stringify(text)} is not a number of seconds`,
      {
        kind: "config_invalid",
        exitCode: 2,
        hint: "set it to how long to wait for another tcfs using this device, e.g. 60, or unset it",
      },
    );
  }
  return secs * 1000;
}

/**
 * Takes the lock if nobody holds it, without waiting.
 *
 * @example
 * ```ts
 * const attempt = await tryWriterLock(writerLockPath(stateDb), "daemon");
 * if ("holder" in attempt) console.log(attempt.holder?.pid);
 * ```
 */
export async function tryWriterLock(path: string, role: string): Promise<WriterLockAttempt> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } finally {
    if (!locked) file.close();
  }
  if (!locked) return { holder: await readHolder(path) };
  const holder: WriterLockHolder = { pid: Deno.pid, role, since: new Date().toISOString() };
  try {
    await file.truncate(0);
    await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
  } catch (err) {
    // A lock whose holder could not be recorded is let go, not kept for the process's life.
    file.close();
    throw err;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    file.close();
  };
  return { lock: { path, release, [Symbol.dispose]: release } };
}

/**
 * Takes the lock, waiting up to `timeoutMs` for its holder to let go.
 *
 * @throws {TcfsError} kind `state_locked`, naming the holder, when it did not let go in time;
 *   or what `refuse` returned.
 *
 * @example
 * ```ts
 * using lock = await acquireWriterLock(writerLockPath(stateDb), { role: "tcfs push", timeoutMs: 60_000 });
 * ```
 */
export async function acquireWriterLock(
  path: string,
  wait: WriterLockWait & { giveWay?: undefined },
): Promise<WriterLock>;
export async function acquireWriterLock(
  path: string,
  wait: WriterLockWait,
): Promise<WriterLock | undefined>;
export async function acquireWriterLock(
  path: string,
  wait: WriterLockWait,
): Promise<WriterLock | undefined> {
  const deadline = Date.now() + wait.timeoutMs;
  for (let tries = 0;; tries++) {
    const attempt = await tryWriterLock(path, wait.role);
    if ("lock" in attempt) return attempt.lock;
    const refused = wait.refuse?.(attempt.holder);
    if (refused) throw refused;
    if (Date.now() >= deadline) throw stateLocked(path, attempt.holder, wait.timeoutMs);
    if (tries === 0) wait.onWait?.(attempt.holder);
    if (await wait.giveWay?.()) return undefined;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Names a holder for messages: `the daemon (pid 4242)`.
 *
 * @example
 * ```ts
 * describeHolder({ pid: 4242, role: "daemon", since: "2026-12-03T10:00:00Z" }); // "daemon (pid 4242)"
 * ```
 */
export function describeHolder(holder: WriterLockHolder | undefined): string {
  return holder ? `${holder.role} (pid ${holder.pid})` : "another tcfs process";
}

async function readHolder(path: string): Promise<WriterLockHolder | undefined> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path));
    return typeof parsed?.pid === "number" && typeof parsed?.role === "string" ? parsed : undefined;
  } catch {
    // Being written, or not a record: the holder stays unnamed.
    return undefined;
  }
}

function stateLocked(
  path: string,
  holder: WriterLockHolder | undefined,
  timeoutMs: number,
): TcfsError {
  return new TcfsError(
    `this device's state is in use by ${describeHolder(holder)}` +
      (timeoutMs > 0 ? `, still after ${Math.round(timeoutMs / 1000)} s` : ""),
    {
      kind: "state_locked",
      hint: `wait for it to finish, or stop it; one tcfs at a time writes a device's state ` +
        `(lock ${path}; TCFS_LOCK_TIMEOUT_SECS sets the wait)`,
    },
  );
}
