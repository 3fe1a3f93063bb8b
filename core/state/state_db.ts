/**
 * The device's local state: what each synced path looked like when it was
 * last pushed or pulled, and a cache of immutable remote versions.
 * node:sqlite in WAL mode, so the CLI and the daemon can share it.
 *
 * @module
 */

import {
  belowPrefixArgs,
  belowPrefixSql,
  startsWithArgs,
  startsWithSql,
} from "./path_prefix_sql.ts";
import { storeFilingPrefix } from "./store_filing.ts";
import {
  DatabaseSync,
  type SQLInputValue,
  type SQLOutputValue,
  type StatementSync,
} from "node:sqlite";
import { dirname } from "node:path";
import { checkpointOffThread } from "./log_checkpoint.ts";
import { lstatIfPresent } from "../io/lstat_if_present.ts";
import type { VersionKind } from "../remote/file_version.ts";
import type { VectorClock } from "../vclock/vector_clock.ts";

/** A path this device has synced, and the version its local copy matches. */
export interface TrackedEntry {
  namespace: string;
  path: string;
  localPath: string;
  kind: VersionKind;
  /** Local stat at sync time; equal stat means unchanged content (no rehash). */
  size: number;
  mtimeMs: number;
  ino: number | null;
  mode: number;
  blake3: string;
  target?: string;
  /**
   * The stat above was racily clean (`core/sync/racy_stat.ts`): it cannot vouch for the
   * content, so an equal stat is checked against `blake3` before it counts as unchanged.
   */
  racy: boolean;
  /** Clock of the version the local copy corresponds to. */
  baseVclock: VectorClock;
  /**
   * Key of that version; empty once the store turned out to be another one
   * ({@linkcode StateDb.unlinkFromStore}): the local copy is known, its remote version is not.
   */
  baseKey: string;
  syncedAt: string;
}

/**
 * What a pass over every tracked path compares: the stat a path was synced with, where, and
 * its base version's key. Reading a whole row is parsing its clock, which a no-op pass over a
 * large tree cannot afford per path; {@linkcode StateDb.getTracked} has it.
 */
export type TrackedStat = Pick<
  TrackedEntry,
  | "path"
  | "localPath"
  | "kind"
  | "size"
  | "mtimeMs"
  | "ino"
  | "mode"
  | "target"
  | "baseKey"
  | "blake3"
  | "racy"
>;

/** Rows a pass over a whole table reads at once: its memory stays bounded by this, not the tree. */
export const PAGE_ROWS = 1024;

/**
 * True for a path unlinked from its remote version because its store was
 * emptied or replaced ({@linkcode StateDb.unlinkFromStore}).
 *
 * @example
 * ```ts
 * if (tracked && isUnlinked(tracked)) console.log("not in this store yet");
 * ```
 */
export function isUnlinked(entry: TrackedStat): boolean {
  return entry.baseKey === "";
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tracked (
  namespace TEXT NOT NULL, path TEXT NOT NULL, local_path TEXT NOT NULL, kind TEXT NOT NULL,
  size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ino INTEGER, mode INTEGER NOT NULL,
  blake3 TEXT NOT NULL, target TEXT, base_vclock TEXT NOT NULL, base_key TEXT NOT NULL,
  synced_at TEXT NOT NULL, racy INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (namespace, path));
CREATE INDEX IF NOT EXISTS tracked_local_path ON tracked(local_path);
CREATE TABLE IF NOT EXISTS version_cache (key TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

type Row = Record<string, SQLInputValue>;

/**
 * Writes held back and committed together: one transaction per this many
 * instead of one per tracked path or cached version.
 */
const WRITE_BATCH = 256;
/** Held-back writes reach the database within this time even when no batch fills. */
const WRITE_DELAY_MS = 500;

/** A tracked row waiting to be written, or, without `row`, to be deleted. */
interface PendingTracked {
  namespace: string;
  path: string;
  row?: Row;
}

const TRACKED_COLUMNS = [
  "namespace",
  "path",
  "local_path",
  "kind",
  "size",
  "mtime_ms",
  "ino",
  "mode",
  "blake3",
  "target",
  "base_vclock",
  "base_key",
  "synced_at",
  "racy",
] as const;

function trackedId(namespace: string, path: string): string {
  return JSON.stringify([namespace, path]);
}

/**
 * Handle on the state database. Tracked rows and cached versions are written
 * in batches (see {@linkcode StateDb.flush}); this handle reads its own held
 * writes, other connections see them within {@linkcode WRITE_DELAY_MS}.
 *
 * @example
 * ```ts
 * const state = await StateDb.open("/home/me/.local/state/tcfs/state.db");
 * state.getTracked("default", "docs/a.txt");
 * state.close();
 * ```
 */
export class StateDb {
  readonly #db: DatabaseSync;
  /** The database file: its WAL is beside it (`-wal`). */
  readonly #path: string;
  /** Prepared once: preparing costs more than running these small statements. */
  readonly #statements = new Map<string, StatementSync>();
  readonly #schemas = new Set<string>();
  readonly #pendingVersions = new Map<string, Uint8Array>();
  readonly #pendingTracked = new Map<string, PendingTracked>();
  readonly #pendingWrites: [string, SQLInputValue[]][] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Held writes written since the last {@linkcode StateDb.checkpointLog}. */
  #writtenSinceCheckpoint = 0;

  private constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
  }

  /** Opens (creating if needed) the database at `path`. */
  static async open(path: string): Promise<StateDb> {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(path);
    // A push of many files writes its tracked rows and cached versions in a few large
    // transactions; checkpointing the WAL every 64 MiB rather than every 4 MiB saved
    // ~0.2 s of fsyncs per 10,000 small files (measured while the cache still held
    // their content).
    // busy_timeout first: setting the journal mode takes a lock, and without a busy handler a
    // second process opening the database at that moment failed at once ("database is locked").
    db.exec(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS};`);
    // Even with one, switching a new database to WAL while another process does may fail at
    // once (SQLite does not wait where two waiters could deadlock): one run in six of
    // concurrent_open_test.ts failed so. Both statements are safe to run again.
    await whileLocked(() =>
      db.exec(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=16384;",
      )
    );
    await whileLocked(() => db.exec(SCHEMA));
    addRacyColumn(db);
    return new StateDb(db, path);
  }

  /** The raw handle, for modules that own their own tables (outbox, conflicts). */
  get database(): DatabaseSync {
    return this.#db;
  }

  /**
   * Runs `schema` (CREATE … IF NOT EXISTS) the first time a module asks on this
   * database, for modules that own their own tables.
   *
   * @example
   * ```ts
   * state.ensureSchema("CREATE TABLE IF NOT EXISTS notes (path TEXT PRIMARY KEY)");
   * ```
   */
  ensureSchema(schema: string): void {
    if (this.#schemas.has(schema)) return;
    this.#db.exec(schema);
    this.#schemas.add(schema);
  }

  /**
   * `sql` prepared on this database, once: modules that own their own tables
   * run the same few statements per file, and preparing costs more than running them.
   *
   * @example
   * ```ts
   * state.statement("DELETE FROM conflicts WHERE namespace = ? AND path = ?").run("default", "a.txt");
   * ```
   */
  statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Like {@linkcode statement}, but its rows come as arrays of the selected columns: a third
   * faster to read than as objects, for the passes that read every row of a table.
   *
   * @example
   * ```ts
   * const [[count]] = state.arrayStatement("SELECT count(*) FROM notes").all();
   * ```
   */
  arrayStatement(sql: string): StatementSync {
    const key = `arrays:${sql}`;
    let statement = this.#statements.get(key);
    if (!statement) {
      statement = this.#db.prepare(sql);
      // Node's StatementSync has it; the type definitions Deno ships lack it.
      (statement as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      this.#statements.set(key, statement);
    }
    return statement;
  }

  getTracked(namespace: string, path: string): TrackedEntry | undefined {
    const pending = this.#pendingTracked.get(trackedId(namespace, path));
    if (pending) return pending.row && fromRow(pending.row);
    const row = this.statement("SELECT * FROM tracked WHERE namespace = ? AND path = ?")
      .get(namespace, path) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /**
   * {@linkcode getTracked} of each of `paths` that is tracked, in one query for those without
   * a held write: a pull reads a block of its paths' rows together, where a query each cost a
   * statement (and its locks) per file.
   *
   * @example
   * ```ts
   * const rows = state.getTrackedAmong("default", ["docs/a.txt", "docs/b.txt"]);
   * ```
   */
  getTrackedAmong(namespace: string, paths: readonly string[]): Map<string, TrackedEntry> {
    const found = new Map<string, TrackedEntry>();
    const unheld: string[] = [];
    for (const path of paths) {
      const pending = this.#pendingTracked.get(trackedId(namespace, path));
      if (!pending) unheld.push(path);
      else if (pending.row) found.set(path, fromRow(pending.row));
    }
    if (unheld.length === 0) return found;
    const rows = this.statement(
      "SELECT * FROM tracked WHERE namespace = ? AND path IN (SELECT value FROM json_each(?))",
    ).all(namespace, JSON.stringify(unheld)) as Row[];
    for (const row of rows) found.set(row.path as string, fromRow(row));
    return found;
  }

  /**
   * Every tracked path in `namespace` (optionally at or below a path prefix). A prefix `a` also
   * bounds a range of the primary key, from `a` to `a0`, so that a prefix naming one file costs
   * a lookup instead of a pass over the namespace (6 ms at 100,000 paths).
   */
  listTracked(namespace: string, prefix = ""): TrackedEntry[] {
    this.flush();
    const rows = prefix === ""
      ? this.statement("SELECT * FROM tracked WHERE namespace = ? ORDER BY path").all(namespace)
      : this.statement(
        `SELECT * FROM tracked WHERE namespace = ? AND path >= ? AND path < ?
           AND ${belowPrefixSql()} ORDER BY path`,
      ).all(namespace, prefix, `${prefix}0`, ...belowPrefixArgs(prefix));
    return (rows as Row[]).map(fromRow);
  }

  /**
   * Every tracked path in `namespace` (optionally below a path prefix) as a
   * {@linkcode TrackedStat}, in path order (`path_order.ts`), read a page at a time as the
   * caller goes: a pass over a whole tree holds a page, not the tree. Each page is read at
   * once, so writes between pages are no harm: a row changed behind the pass is not seen.
   * With `after`, the pass starts past that path (a push's second pass).
   *
   * @example
   * ```ts
   * for (const t of state.trackedStats("default", "docs")) console.log(t.path, t.baseKey);
   * ```
   */
  *trackedStats(namespace: string, prefix = "", after = ""): Generator<TrackedStat> {
    this.flush();
    const page = this.arrayStatement(
      `SELECT path, local_path, kind, size, mtime_ms, ino, mode, target, base_key, blake3, racy
       FROM tracked
       WHERE namespace = ? AND path > ? AND ${belowPrefixSql()}
       ORDER BY path LIMIT ${PAGE_ROWS}`,
    );
    for (;;) {
      const rows = page.all(namespace, after, ...belowPrefixArgs(prefix));
      for (const row of rows as unknown as SQLOutputValue[][]) {
        const [path, localPath, kind, size, mtimeMs, ino, mode, target, baseKey, blake3, racy] =
          row;
        yield {
          path: path as string,
          localPath: localPath as string,
          kind: kind as VersionKind,
          size: Number(size),
          mtimeMs: Number(mtimeMs),
          ino: ino === null ? null : Number(ino),
          mode: Number(mode),
          target: (target as string | null) ?? undefined,
          baseKey: baseKey as string,
          blake3: blake3 as string,
          racy: isSet(racy),
        };
      }
      if (rows.length < PAGE_ROWS) return;
      after = (rows.at(-1) as unknown as SQLOutputValue[])[0] as string;
    }
  }

  /**
   * The local paths of the live (not deleted) tracked paths, in any namespace, synced at or
   * below the local folder `localPath`.
   *
   * @example
   * ```ts
   * if (state.syncedPathsFrom("/home/me/Sync").length === 0) console.log("never synced from here");
   * ```
   */
  syncedPathsFrom(localPath: string): string[] {
    this.flush();
    const rows = this.statement(
      `SELECT local_path FROM tracked WHERE kind != 'deleted' AND ${belowPrefixSql("local_path")}`,
    ).all(...belowPrefixArgs(localPath)) as { local_path: string }[];
    return rows.map((row) => row.local_path);
  }

  /**
   * Records what `entry.path` now matches. Written with the next batch (see
   * {@linkcode flush}): a crash may lose it, which only costs re-checking that
   * path, and callers record only versions already in the store, so a row never
   * claims a version that was not written.
   */
  putTracked(entry: TrackedEntry): void {
    this.#holdTracked({ namespace: entry.namespace, path: entry.path, row: toRow(entry) });
  }

  /** Forgets a tracked path, with the next batch like {@linkcode putTracked}. */
  deleteTracked(namespace: string, path: string): void {
    this.#holdTracked({ namespace, path });
  }

  /** A version body seen before; versions never change, so the cache never goes stale. */
  getCachedVersion(key: string): Uint8Array | undefined {
    const pending = this.#pendingVersions.get(key);
    if (pending) return pending;
    const row = this.statement("SELECT body FROM version_cache WHERE key = ?").get(key) as
      | Row
      | undefined;
    return row ? new Uint8Array(row.body as Uint8Array) : undefined;
  }

  /**
   * Caches a version body, with the next batch (a lost batch only costs
   * re-reading those versions from the store).
   */
  putCachedVersion(key: string, body: Uint8Array): void {
    this.#pendingVersions.set(key, body);
    this.#held();
  }

  /** Writes held-back tracked rows and cached versions now, in one transaction. */
  flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#heldCount() === 0) return;
    this.#writtenSinceCheckpoint += this.#heldCount();
    const cacheVersion = this.statement(
      "INSERT OR REPLACE INTO version_cache (key, body) VALUES (?, ?)",
    );
    const track = this.statement(
      `INSERT OR REPLACE INTO tracked (${TRACKED_COLUMNS.join(", ")})
       VALUES (${TRACKED_COLUMNS.map(() => "?").join(", ")})`,
    );
    const untrack = this.statement("DELETE FROM tracked WHERE namespace = ? AND path = ?");
    this.transaction(() => {
      for (const [key, body] of this.#pendingVersions) cacheVersion.run(key, body);
      for (const { namespace, path, row } of this.#pendingTracked.values()) {
        if (row) track.run(...TRACKED_COLUMNS.map((column) => row[column]));
        else untrack.run(namespace, path);
      }
      for (const [sql, params] of this.#pendingWrites) this.statement(sql).run(...params);
    });
    this.#pendingWrites.length = 0;
    this.#pendingVersions.clear();
    this.#pendingTracked.clear();
  }

  /** Drops cached versions whose keys are no longer listed under `prefix`. */
  pruneVersionCache(prefix: string, liveKeys: ReadonlySet<string>): void {
    this.flush();
    const rows = this.statement(
      `SELECT key FROM version_cache WHERE ${startsWithSql("key")}`,
    ).all(...startsWithArgs(prefix)) as Row[];
    const remove = this.statement("DELETE FROM version_cache WHERE key = ?");
    const gone = rows.map((row) => row.key as string).filter((key) => !liveKeys.has(key));
    if (gone.length === 0) return;
    this.transaction(() => {
      for (const key of gone) remove.run(key);
    });
  }

  /**
   * Unlinks every path tracked for the store at `location` from its remote
   * version, keeping what is known about the local copy, and forgets the cached
   * versions filed for it: for when the store turns out to be another one. An
   * unlinked path ({@linkcode isUnlinked}) is pushed again even if unchanged, and
   * a pull may replace it if it is unchanged since its last sync.
   *
   * @example
   * ```ts
   * state.unlinkFromStore(store.location);
   * ```
   */
  unlinkFromStore(location: string): void {
    const prefix = storeFilingPrefix(location);
    this.flush();
    this.transaction(() => {
      this.statement(
        `UPDATE tracked SET base_vclock = '{}', base_key = '' WHERE ${startsWithSql("namespace")}`,
      ).run(...startsWithArgs(prefix));
      this.statement(`DELETE FROM version_cache WHERE ${startsWithSql("key")}`)
        .run(...startsWithArgs(prefix));
    });
  }

  getMeta(key: string): string | undefined {
    const row = this.statement("SELECT value FROM meta WHERE key = ?").get(key) as
      | Row
      | undefined;
    return row?.value as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.statement("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(key, value);
  }

  /** Runs `work` in one transaction (many small writes become one fsync). */
  transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (err) {
      rollBack(this.#db);
      throw err;
    }
  }

  close(): void {
    this.flush();
    this.#db.close();
  }

  /**
   * Writes the held writes, then copies what it can of the write-ahead log into the database
   * on another thread (`log_checkpoint.ts`): called while other work goes on, it leaves the
   * close, which checkpoints on the calling thread, little to copy. Not for fewer than
   * {@linkcode CHECKPOINT_AFTER_WRITES} writes since the last (a batch of large files writes a
   * few rows), nor for a database not in WAL mode, which has no log.
   *
   * @example
   * ```ts
   * const checkpointed = state.checkpointLog(); // while the next files are written
   * await checkpointed;
   * ```
   */
  async checkpointLog(): Promise<void> {
    this.flush();
    if (this.#writtenSinceCheckpoint < CHECKPOINT_AFTER_WRITES) return;
    if (!lstatIfPresent(`${this.#path}-wal`)) return;
    this.#writtenSinceCheckpoint = 0;
    await checkpointOffThread(this.#path, BUSY_TIMEOUT_MS);
  }

  /**
   * Runs `sql` with the next batch, like tracked rows: for tables that only save work later
   * (chunk fingerprints, chunk places), or whose readers {@linkcode flush} first (the conflict
   * queue), where one transaction per file would cost more than the file. A read before the
   * batch is written does not see it.
   *
   * @example
   * ```ts
   * state.holdWrite("INSERT OR IGNORE INTO notes (path) VALUES (?)", ["a.txt"]);
   * ```
   */
  holdWrite(sql: string, params: SQLInputValue[]): void {
    this.#pendingWrites.push([sql, params]);
    this.#held();
  }

  #heldCount(): number {
    return this.#pendingVersions.size + this.#pendingTracked.size + this.#pendingWrites.length;
  }

  #holdTracked(pending: PendingTracked): void {
    this.#pendingTracked.set(trackedId(pending.namespace, pending.path), pending);
    this.#held();
  }

  /** Flushes a full batch now, and a partial one after {@linkcode WRITE_DELAY_MS}. */
  #held(): void {
    if (this.#heldCount() >= WRITE_BATCH) {
      this.flush();
      return;
    }
    if (this.#flushTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#flushTimer = undefined;
      try {
        this.flush();
      } catch {
        // Busy past the timeout: the writes stay held for the next flush, which reports its error.
      }
    }, WRITE_DELAY_MS);
    // Held writes must not keep a finished command alive; close() writes them.
    Deno.unrefTimer(timer);
    this.#flushTimer = timer;
  }
}

/** The row `entry` is stored as; held rows are read back through {@linkcode fromRow} too. */
function toRow(entry: TrackedEntry): Row {
  return {
    namespace: entry.namespace,
    path: entry.path,
    local_path: entry.localPath,
    kind: entry.kind,
    size: entry.size,
    mtime_ms: entry.mtimeMs,
    ino: entry.ino,
    mode: entry.mode,
    blake3: entry.blake3,
    target: entry.target ?? null,
    base_vclock: JSON.stringify(entry.baseVclock),
    base_key: entry.baseKey,
    synced_at: entry.syncedAt,
    racy: entry.racy ? 1 : 0,
  };
}

/** An INTEGER column used as a flag, as node:sqlite reads it (a number, or a bigint). */
function isSet(value: SQLOutputValue | SQLInputValue): boolean {
  return value === 1 || value === 1n;
}

function fromRow(row: Row): TrackedEntry {
  return {
    namespace: row.namespace as string,
    path: row.path as string,
    localPath: row.local_path as string,
    kind: row.kind as VersionKind,
    size: Number(row.size),
    mtimeMs: Number(row.mtime_ms),
    ino: row.ino === null ? null : Number(row.ino),
    mode: Number(row.mode),
    blake3: row.blake3 as string,
    target: (row.target as string | null) ?? undefined,
    baseVclock: JSON.parse(row.base_vclock as string),
    baseKey: row.base_key as string,
    syncedAt: row.synced_at as string,
    racy: isSet(row.racy),
  };
}

/** How long a statement waits for another process's lock before it fails. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Writes between two checkpoints of the log off the main thread: each costs a worker (~10 ms of
 * its CPU, ~10 MB of RSS kept), worth it for a window of small files (thousands of rows), not
 * for a batch of large ones.
 */
const CHECKPOINT_AFTER_WRITES = 1000;

/**
 * Runs `work` again after a short pause while SQLite reports the database locked without having
 * waited, for up to {@linkcode BUSY_TIMEOUT_MS}; for statements that may run twice.
 */
async function whileLocked(work: () => void): Promise<void> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return work();
    } catch (err) {
      const locked = err instanceof Error && err.message.includes("database is locked");
      if (!locked || Date.now() >= deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
  }
}

/**
 * Rows of a database made before tracked rows said whether their stat was racy get the
 * column. Those rows were recorded without knowing, so each whose mtime is within a minute of
 * when it was recorded (or later) is taken as racy: its first check hashes it once, which
 * costs the few files edited just before a sync, not the tree.
 */
function addRacyColumn(db: DatabaseSync): void {
  const hasColumn = () =>
    (db.prepare("PRAGMA table_info(tracked)").all() as { name: string }[])
      .some((c) => c.name === "racy");
  if (hasColumn()) return;
  // Asked again inside the write lock: the daemon and a command may open an old database at once.
  db.exec("BEGIN IMMEDIATE");
  try {
    if (!hasColumn()) {
      db.exec(`ALTER TABLE tracked ADD COLUMN racy INTEGER NOT NULL DEFAULT 0;
        UPDATE tracked SET racy = 1 WHERE kind = 'file' AND
          mtime_ms > (julianday(synced_at) - 2440587.5) * 86400000.0 - 60000;`);
    }
    db.exec("COMMIT");
  } catch (err) {
    rollBack(db);
    throw err;
  }
}

/**
 * Ends the transaction under way, if there still is one: SQLite rolls back by itself on some
 * errors (a full disk, an I/O error), and a ROLLBACK then would throw "no transaction is
 * active" in place of the error that says what went wrong.
 */
function rollBack(db: DatabaseSync): void {
  if (db.isTransaction) db.exec("ROLLBACK");
}
