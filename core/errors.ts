/**
 * Errors tcfs reports to people: what went wrong, and what to do about it.
 *
 * @module
 */

/** Process exit codes; documented in README.md. */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  conflicts: 3,
  daemonNotRunning: 4,
} as const;

export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/** The hint of an error that only a defect in tcfs itself can cause. */
export const BUG_HINT = "this is a bug in tcfs; run the command again, and report it if it recurs";

/** Options for {@linkcode TcfsError}. */
export interface TcfsErrorOptions {
  /** One sentence telling the user what to do next. */
  hint?: string;
  /** Exit code the CLI should use; defaults to {@linkcode ExitCode.error}. */
  exitCode?: ExitCodeValue;
  /** Machine-readable error kind, stable across releases (shown in --json output). */
  kind?: string;
  cause?: unknown;
}

/**
 * An error with a message meant for the user and a hint on how to fix it.
 * Messages must never contain secrets.
 *
 * @example
 * ```ts
 * throw new TcfsError("config file /x/config.toml: unknown key [sync] foo", {
 *   hint: "remove the key or check its spelling",
 *   exitCode: ExitCode.usage,
 * });
 * ```
 */
export class TcfsError extends Error {
  readonly hint?: string;
  readonly exitCode: ExitCodeValue;
  readonly kind: string;

  constructor(message: string, options: TcfsErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "TcfsError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.error;
    this.kind = options.kind ?? "error";
  }
}

/** Formats any thrown value as one line (plus hint), for humans. */
export function describeError(err: unknown): string {
  if (err instanceof TcfsError) {
    return err.hint ? `${err.message}\n  hint: ${err.hint}` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
