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

/**
 * Every {@linkcode TcfsErrorKind}, so code that receives a kind from outside (the control API,
 * tests) can check it. Kinds are stable across releases: they are shown in `--json` output.
 */
export const TCFS_ERROR_KINDS = [
  // Generic.
  "error",
  "internal",
  "usage",
  "invalid_argument",
  "invalid_flag",
  "cancelled",
  // Configuration and the host.
  "config_invalid",
  "env_file_invalid",
  "executable_unknown",
  "metrics_addr_unavailable",
  "service_invalid",
  "service_start_failed",
  "service_unsupported",
  // Credentials.
  "credentials_missing",
  "config-secrets-exposed",
  "credentials-incomplete",
  "credentials-failed",
  "credentials-missing",
  "prompt-cancelled",
  "sops-unreadable",
  "sops-wrong-shape",
  "sops-nix-unreadable",
  "sops-not-sops-file",
  "sops-unsupported-key-type",
  "sops-no-matching-key",
  "sops-mac-mismatch",
  "sops-corrupt-value",
  "sops-missing",
  "sops-file-missing",
  "sops-file-managed-elsewhere",
  "sops-encrypt-failed",
  "sops-rotation-unverified",
  "kdbx-unreadable",
  "kdbx-wrong-key",
  "kdbx-entry-not-found",
  "kdbx-entry-incomplete",
  "nats_creds_unreadable",
  "nats_creds_invalid",
  // Devices.
  "age_key_invalid",
  "device_identity_invalid",
  "device_name_taken",
  "device_not_found",
  "device_revoked",
  "invalid_device_name",
  "registry_busy",
  // Paths and sync.
  "unsafe_path",
  "path_blocked",
  "disk_full",
  "read_only_filesystem",
  "invalid_namespace",
  "not_found",
  "deleted",
  "file_changed",
  "local_changed",
  "sync_root_missing",
  "root_marker_missing",
  "mass_delete",
  "state_locked",
  "version_race",
  "file_too_large",
  "no_conflict",
  "conflict_changed",
  // Data from the store and events.
  "corrupt_version",
  "corrupt_journal",
  "journal_too_new",
  "missing_version",
  "corrupt_file",
  "corrupt_chunk",
  "missing_chunk",
  "history_gone",
  "content_condemned",
  "gc_lease_held",
  "state_event_invalid",
  // End-to-end encryption.
  "not_approved",
  "sealed_damaged",
  "keychain_invalid",
  "keychain_rollback",
  "not_encrypted",
  "recovery_failed",
  // The store.
  "invalid_key",
  "store_io",
  "store_busy",
  "store_forbidden",
  "store_key_conflict",
  "store_unreachable",
  "store_error",
  "store_rejected",
  "bucket_missing",
  "store_id_invalid",
  "gc_lease_invalid",
  "oversized_object",
  // The daemon and its control API.
  "daemon_running",
  "daemon_not_running",
  "daemon_stopping",
  "daemon_error",
  "socket_path_taken",
  "socket_untrusted",
  "bad_request",
  "forbidden_origin",
  "method_not_allowed",
] as const;

/** The machine-readable kind of a {@linkcode TcfsError}: one closed set, checked by the compiler. */
export type TcfsErrorKind = typeof TCFS_ERROR_KINDS[number];

/**
 * True when `value` is one of the {@linkcode TCFS_ERROR_KINDS}.
 *
 * @example
 * ```ts
 * const kind = isTcfsErrorKind(body.kind) ? body.kind : "daemon_error";
 * ```
 */
export function isTcfsErrorKind(value: unknown): value is TcfsErrorKind {
  return (TCFS_ERROR_KINDS as readonly unknown[]).includes(value);
}

/** Options for {@linkcode TcfsError}. */
export interface TcfsErrorOptions {
  /** One sentence telling the user what to do next. */
  hint?: string;
  /** Exit code the CLI should use; defaults to {@linkcode ExitCode.error}. */
  exitCode?: ExitCodeValue;
  /** Machine-readable error kind, stable across releases (shown in --json output). */
  kind?: TcfsErrorKind;
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
  readonly kind: TcfsErrorKind;

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

/** What the system's own errors mean to a user of tcfs, by their code. */
const SYSTEM_ERRORS: Record<string, { kind: TcfsErrorKind; hint: string; doing?: string }> = {
  ENOSPC: {
    kind: "disk_full",
    hint: "free some space on that disk, then run the command again: what is already in place " +
      "stays, and the next run goes on from there",
  },
  EDQUOT: {
    kind: "disk_full",
    hint: "free some of your space (or have your quota raised), then run the command again",
  },
  EROFS: {
    kind: "read_only_filesystem",
    hint: "remount the filesystem read-write, or choose a folder on another one",
  },
  SQLITE_FULL: {
    kind: "disk_full",
    doing: "writing tcfs's state database",
    hint: "free some space on the disk that holds tcfs's state ($XDG_STATE_HOME/tcfs, by " +
      "default ~/.local/state/tcfs), then run the command again: nothing recorded so far is lost",
  },
};

/** SQLite's primary result code for a full disk under a database, and its fixed text. */
const SQLITE_FULL = { code: 13, text: "database or disk is full" };

/** The key of `err` in {@linkcode SYSTEM_ERRORS}: its errno name, or SQLite's own. */
function systemErrorName(err: Error): string {
  const { code, errcode } = err as { code?: unknown; errcode?: unknown };
  if (code !== "ERR_SQLITE_ERROR") return typeof code === "string" ? code : "";
  // A statement's error carries the result code (extended codes keep the primary one in their
  // low byte); an exec's (a COMMIT's) only SQLite's text for it.
  const full = typeof errcode === "number"
    ? (errcode & 0xff) === SQLITE_FULL.code
    : err.message === SQLITE_FULL.text;
  return full ? "SQLITE_FULL" : "";
}

/**
 * A system error that a user can act on (a full disk, under their files or under tcfs's state
 * database; a read-only filesystem) as a
 * {@linkcode TcfsError} with a hint; anything else as it is.
 *
 * @example
 * ```ts
 * const shown = explainSystemError(err); // ENOSPC → kind "disk_full", with what to do
 * console.error(describeError(shown));
 * ```
 */
export function explainSystemError(err: unknown): unknown {
  if (err instanceof TcfsError || !(err instanceof Error)) return err;
  const known = SYSTEM_ERRORS[systemErrorName(err)];
  if (!known) return err;
  const { kind, hint, doing } = known;
  return new TcfsError(doing ? `${doing}: ${err.message}` : err.message, {
    kind,
    hint,
    cause: err,
  });
}
