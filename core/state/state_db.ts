/**
 * The device's local state: what each synced path looked like when it was
 * last pushed or pulled, and a cache of immutable remote versions.
 * node:sqlite in WAL mode, so the CLI and the daemon can share it.
 *
 * @module
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { dirname } from "node:path";
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
  /** Clock of the version the local copy corresponds to. */
  baseVclock: VectorClock;
  /** Key of that version. */
  baseKey: string;
  syncedAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tracked (
  namespace TEXT NOT NULL, path TEXT NOT NULL, local_path TEXT NOT NULL, kind TEXT NOT NULL,
  size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ino INTEGER, mode INTEGER NOT NULL,
  blake3 TEXT NOT NULL, target TEXT, base_vclock TEXT NOT NULL, base_key TEXT NOT NULL,
  synced_at TEXT NOT NULL, PRIMARY KEY (namespace, path));
CREATE INDEX IF NOT EXISTS tracked_local_path ON tracked(local_path);
CREATE TABLE IF NOT EXISTS version_cache (key TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

type Row = Record<string, SQLInputValue>;

/** Cached versions written per transaction. */
const VERSION_CACHE_BATCH = 256;

/**
 * Handle on the state database.
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
  /** Prepared once: preparing costs more than running these small statements. */
  readonly #statements = new Map<string, StatementSync>();
  readonly #pendingVersions = new Map<string, Uint8Array>();

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens (creating if needed) the database at `path`. */
  static async open(path: string): Promise<StateDb> {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;");
    db.exec(SCHEMA);
    return new StateDb(db);
  }

  /** The raw handle, for modules that own their own tables (outbox, conflicts). */
  get database(): DatabaseSync {
    return this.#db;
  }

  getTracked(namespace: string, path: string): TrackedEntry | undefined {
    const row = this.#statement("SELECT * FROM tracked WHERE namespace = ? AND path = ?")
      .get(namespace, path) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Every tracked path in `namespace` (optionally below a path prefix). */
  listTracked(namespace: string, prefix = ""): TrackedEntry[] {
    const rows = prefix === ""
      ? this.#statement("SELECT * FROM tracked WHERE namespace = ? ORDER BY path").all(namespace)
      : this.#statement(
        "SELECT * FROM tracked WHERE namespace = ? AND (path = ? OR substr(path, 1, ?) = ?) ORDER BY path",
      ).all(namespace, prefix, prefix.length + 1, prefix + "/");
    return (rows as Row[]).map(fromRow);
  }

  putTracked(entry: TrackedEntry): void {
    this.#statement(
      `INSERT OR REPLACE INTO tracked (namespace, path, local_path, kind, size, mtime_ms, ino, mode,
       blake3, target, base_vclock, base_key, synced_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    ).run(
      entry.namespace,
      entry.path,
      entry.localPath,
      entry.kind,
      entry.size,
      entry.mtimeMs,
      entry.ino,
      entry.mode,
      entry.blake3,
      entry.target ?? null,
      JSON.stringify(entry.baseVclock),
      entry.baseKey,
      entry.syncedAt,
    );
  }

  deleteTracked(namespace: string, path: string): void {
    this.#statement("DELETE FROM tracked WHERE namespace = ? AND path = ?").run(namespace, path);
  }

  /** A version body seen before; versions never change, so the cache never goes stale. */
  getCachedVersion(key: string): Uint8Array | undefined {
    const pending = this.#pendingVersions.get(key);
    if (pending) return pending;
    const row = this.#statement("SELECT body FROM version_cache WHERE key = ?").get(key) as
      | Row
      | undefined;
    return row ? new Uint8Array(row.body as Uint8Array) : undefined;
  }

  /**
   * Caches a version body. Writes are batched into one transaction per
   * {@linkcode VERSION_CACHE_BATCH} entries (a lost batch only costs re-reading those
   * versions from the store).
   */
  putCachedVersion(key: string, body: Uint8Array): void {
    this.#pendingVersions.set(key, body);
    if (this.#pendingVersions.size >= VERSION_CACHE_BATCH) this.flush();
  }

  /** Writes batched cache entries now. */
  flush(): void {
    if (this.#pendingVersions.size === 0) return;
    const insert = this.#statement(
      "INSERT OR REPLACE INTO version_cache (key, body) VALUES (?, ?)",
    );
    this.transaction(() => {
      for (const [key, body] of this.#pendingVersions) insert.run(key, body);
    });
    this.#pendingVersions.clear();
  }

  /** Drops cached versions whose keys are no longer listed under `prefix`. */
  pruneVersionCache(prefix: string, liveKeys: ReadonlySet<string>): void {
    this.flush();
    const rows = this.#statement(
      "SELECT key FROM version_cache WHERE substr(key, 1, ?) = ?",
    ).all(prefix.length, prefix) as Row[];
    const remove = this.#statement("DELETE FROM version_cache WHERE key = ?");
    for (const row of rows) {
      if (!liveKeys.has(row.key as string)) remove.run(row.key as string);
    }
  }

  getMeta(key: string): string | undefined {
    const row = this.#statement("SELECT value FROM meta WHERE key = ?").get(key) as
      | Row
      | undefined;
    return row?.value as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.#statement("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(key, value);
  }

  /** Runs `work` in one transaction (many small writes become one fsync). */
  transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  close(): void {
    this.flush();
    this.#db.close();
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
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
  };
}
