/**
 * This device's fold of a namespace's journals, in the state database: every head and kept
 * version by path, the history (every other version folded in: what `tcfs log` lists and
 * `tcfs restore` brings back), and per device the last segment folded in. Reading heads costs
 * no request; catching up (`journal_catch_up.ts`) adds what is new.
 *
 * Rows are filed under the tracked namespace (`trackedNamespace`: store and namespace), so
 * two stores never mix.
 *
 * @module
 */

import {
  belowPrefixArgs,
  belowPrefixSql,
  startsWithArgs,
  startsWithSql,
} from "../state/path_prefix_sql.ts";
import { PAGE_ROWS, type StateDb } from "../state/state_db.ts";
import type { FileVersion, VersionKind } from "../remote/file_version.ts";
import { versionKeyFunction } from "../remote/remote_keys.ts";
import { type FoldedPath, foldVersion } from "./head_fold.ts";
import { collectIfGrown } from "../runtime/full_collection.ts";
import type { PathHeads, StoredVersion } from "./stored_version.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS journal_versions (
  ns TEXT NOT NULL, path TEXT NOT NULL, key TEXT NOT NULL, head INTEGER NOT NULL,
  body BLOB NOT NULL, PRIMARY KEY (ns, path, key));
CREATE TABLE IF NOT EXISTS journal_history (
  ns TEXT NOT NULL, path TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL,
  PRIMARY KEY (ns, path, key));
CREATE TABLE IF NOT EXISTS journal_cursors (
  ns TEXT NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (ns, device));
`;

function ready(state: StateDb): StateDb {
  state.ensureSchema(SCHEMA);
  return state;
}

/**
 * The name of `version` (see {@linkcode StoredVersion}).
 *
 * @example
 * ```ts
 * const stored = await storedVersion("default", version);
 * ```
 */
export async function storedVersion(
  namespace: string,
  version: FileVersion,
): Promise<StoredVersion> {
  return (await storedVersionFunction(namespace))(version);
}

/**
 * {@linkcode storedVersion} as a function that does not await: for naming versions as they
 * are folded in, inside one transaction.
 *
 * @example
 * ```ts
 * const stored = await storedVersionFunction("default");
 * foldInSlices(state, ns, [versions.map(stored)]);
 * ```
 */
export async function storedVersionFunction(
  namespace: string,
): Promise<(version: FileVersion) => StoredVersion> {
  const keyOf = await versionKeyFunction(namespace);
  return (version) => ({
    key: keyOf(version.path, version.author, version.vclock[version.author] ?? 0),
    version,
  });
}

/**
 * The heads and kept versions of one path.
 *
 * @example
 * ```ts
 * const { heads } = foldedPath(state, ns, "docs/a.txt");
 * ```
 */
export function foldedPath(state: StateDb, ns: string, path: string): PathHeads {
  const rows = ready(state).statement(
    "SELECT key, head, body FROM journal_versions WHERE ns = ? AND path = ?",
  ).all(ns, path);
  return groupRows(path, rows as unknown as Row[]);
}

/**
 * {@linkcode foldedPath} of each of `paths`, in one query: a pull reads the heads of a block of
 * its paths together, where a query each cost a statement (and its locks) per file. A path
 * with nothing folded has no heads.
 *
 * @example
 * ```ts
 * const { heads } = foldedPathsAmong(state, ns, ["docs/a.txt", "docs/b.txt"]).get("docs/a.txt")!;
 * ```
 */
export function foldedPathsAmong(
  state: StateDb,
  ns: string,
  paths: readonly string[],
): Map<string, PathHeads> {
  const rows = ready(state).statement(
    `SELECT path, key, head, body FROM journal_versions
     WHERE ns = ? AND path IN (SELECT value FROM json_each(?))`,
  ).all(ns, JSON.stringify(paths)) as unknown as (Row & { path: string })[];
  const byPath = new Map<string, Row[]>(paths.map((path) => [path, []]));
  for (const row of rows) byPath.get(row.path)?.push(row);
  return new Map([...byPath].map(([path, list]) => [path, groupRows(path, list)]));
}

/** A path's one head, as a pull weighs it before reading it: what it is and its size. */
export interface SoleHead {
  kind: VersionKind;
  size: number;
}

/**
 * The kind and size of the one head of each of `paths` that has exactly one, in one query, taken
 * out of the stored versions by SQLite: a pull totals the bytes it will write without parsing
 * every version (a large file's holds thousands of chunk refs).
 *
 * @example
 * ```ts
 * const bytes = soleHeadsAmong(state, ns, ["docs/a.txt"]).get("docs/a.txt")?.size ?? 0;
 * ```
 */
export function soleHeadsAmong(
  state: StateDb,
  ns: string,
  paths: readonly string[],
): Map<string, SoleHead> {
  const rows = ready(state).arrayStatement(
    `SELECT path, b->>'$.kind', b->>'$.size' FROM (
       SELECT path, count(*) AS heads, max(CAST(body AS TEXT)) AS b FROM journal_versions
       WHERE ns = ? AND head = 1 AND path IN (SELECT value FROM json_each(?)) GROUP BY path)
     WHERE heads = 1`,
  ).all(ns, JSON.stringify(paths)) as unknown as [string, VersionKind, number | null][];
  return new Map(rows.map(([path, kind, size]) => [path, { kind, size: Number(size ?? 0) }]));
}

/**
 * Every path of the namespace that `wanted` accepts, with its heads and kept versions.
 *
 * @example
 * ```ts
 * for (const [path, { heads }] of foldedNamespace(state, ns, () => true)) console.log(path);
 * ```
 */
export function foldedNamespace(
  state: StateDb,
  ns: string,
  wanted: (path: string) => boolean,
): Map<string, PathHeads> {
  const byPath = new Map<string, Row[]>();
  const rows = ready(state).statement(
    "SELECT path, key, head, body FROM journal_versions WHERE ns = ?",
  ).iterate(ns);
  for (const row of rows as unknown as Iterable<Row & { path: string }>) {
    if (!wanted(row.path)) continue;
    const list = byPath.get(row.path) ?? [];
    list.push(row);
    byPath.set(row.path, list);
  }
  return new Map([...byPath].map(([path, list]) => [path, groupRows(path, list)]));
}

/**
 * A path of the fold as a pass over a whole namespace sees it: how many heads it has, and the
 * key of its head when it has one. A path whose one head is the version a tracked row is
 * based on has nothing new; only the others need their versions read ({@linkcode foldedPath}).
 */
export interface FoldedEntry {
  path: string;
  heads: number;
  /** The key of the path's head when it has exactly one. */
  soleHead?: string;
}

/**
 * Every path of `ns` at or below `prefix` ("" = all) that has heads or kept versions, in
 * path order (`core/paths/path_order.ts`), read a page of paths at a time as the caller goes.
 * Each page is read at once, so a path's heads are never seen half folded.
 *
 * @example
 * ```ts
 * for (const folded of foldedInOrder(state, ns, "docs")) {
 *   if (folded.soleHead !== tracked.baseKey) look(foldedPath(state, ns, folded.path));
 * }
 * ```
 */
export function* foldedInOrder(
  state: StateDb,
  ns: string,
  prefix: string,
): Generator<FoldedEntry> {
  const page = ready(state).arrayStatement(
    `SELECT path, sum(head), max(CASE WHEN head = 1 THEN key END) FROM journal_versions
     WHERE ns = ? AND path > ? AND ${belowPrefixSql()}
     GROUP BY path ORDER BY path LIMIT ${PAGE_ROWS}`,
  );
  for (let after = "";;) {
    const rows = page.all(
      ns,
      after,
      ...belowPrefixArgs(prefix),
    ) as unknown as [
      string,
      number,
      string | null,
    ][];
    for (const [path, heads, key] of rows) {
      yield Number(heads) === 1
        ? { path, heads: 1, soleHead: key! }
        : { path, heads: Number(heads) };
    }
    if (rows.length < PAGE_ROWS) return;
    after = rows[rows.length - 1][0];
  }
}

/**
 * A path's newest head (the latest `written_at`, as `newestHead` picks), with what a listing
 * shows of it and none of its content: a mount's tree holds these, not versions.
 */
export interface FoldedListing {
  path: string;
  key: string;
  kind: VersionKind;
  size: number;
  mode: number;
  mtimeMs: number;
  /** For symlinks. */
  target?: string;
}

/**
 * The newest head of every path of `ns` at or below `prefix` ("" = all), in path order, its
 * fields taken out of the stored versions by SQLite: no version (a chunk list of thousands
 * of refs for a large file) is parsed in JavaScript, so a pass over a namespace of any size
 * holds one row at a time.
 *
 * @example
 * ```ts
 * for (const head of foldedListing(state, ns, "docs")) console.log(head.path, head.size);
 * ```
 */
export function* foldedListing(
  state: StateDb,
  ns: string,
  prefix: string,
): Generator<FoldedListing> {
  const rows = ready(state).arrayStatement(
    `SELECT path, key, b->>'$.kind', b->>'$.size', b->>'$.mode', b->>'$.mtime_ms',
       b->>'$.written_at', b->>'$.target'
     FROM (SELECT path, key, CAST(body AS TEXT) AS b FROM journal_versions
       WHERE ns = ? AND head = 1 AND ${belowPrefixSql()})
     ORDER BY path, key`,
  ).iterate(ns, ...belowPrefixArgs(prefix)) as unknown as Iterable<
    [string, string, VersionKind, number, number, number, string, string | null]
  >;
  let newest: FoldedListing | undefined;
  let newestAt = "";
  for (const [path, key, kind, size, mode, mtimeMs, writtenAt, target] of rows) {
    // Among heads written at the same instant the first by key wins, as in a path's heads.
    if (newest?.path === path && writtenAt <= newestAt) continue;
    if (newest && newest.path !== path) yield newest;
    newest = { path, key, kind, size, mode, mtimeMs, ...(target === null ? {} : { target }) };
    newestAt = writtenAt;
  }
  if (newest) yield newest;
}

/**
 * The version `key` of `path` as folded: a head, kept, or in the history (superseded since it
 * was read), or undefined when the fold no longer holds it.
 *
 * @example
 * ```ts
 * const version = foldedVersion(state, ns, "docs/a.txt", head.key);
 * ```
 */
export function foldedVersion(
  state: StateDb,
  ns: string,
  path: string,
  key: string,
): FileVersion | undefined {
  const row = ready(state).statement(
    `SELECT key, body FROM journal_versions WHERE ns = ? AND path = ? AND key = ?
     UNION ALL SELECT key, body FROM journal_history WHERE ns = ? AND path = ? AND key = ?
     LIMIT 1`,
  ).get(ns, path, key, ns, path, key) as unknown as Row | undefined;
  return row && storedOf(row).version;
}

/**
 * The history of one path: every version folded in that is neither a head nor kept, in no
 * particular order.
 *
 * @example
 * ```ts
 * const older = foldedHistory(state, ns, "docs/a.txt");
 * ```
 */
export function foldedHistory(state: StateDb, ns: string, path: string): StoredVersion[] {
  const rows = ready(state).statement(
    "SELECT key, body FROM journal_history WHERE ns = ? AND path = ?",
  ).all(ns, path) as unknown as Row[];
  return rows.map(storedOf);
}

/**
 * Every version of `ns` this device holds (heads, kept and history) whose path `wanted`
 * accepts, grouped by path, paths in order: what a checkpoint carries, what gc prunes and
 * what `tcfs ls --deleted` and a folder's restore read.
 *
 * @example
 * ```ts
 * for (const { path, heads, kept, history } of everyFoldedVersion(state, ns, () => true)) {}
 * ```
 */
export function* everyFoldedVersion(
  state: StateDb,
  ns: string,
  wanted: (path: string) => boolean,
): Generator<PathHeads & { history: StoredVersion[] }> {
  ready(state);
  const rows = state.statement(
    `SELECT path, key, head, body FROM journal_versions WHERE ns = ?
     UNION ALL SELECT path, key, 2 AS head, body FROM journal_history WHERE ns = ?
     ORDER BY path`,
  ).iterate(ns, ns) as unknown as Iterable<Row & { path: string }>;
  let current: (Row & { path: string })[] = [];
  const group = (list: (Row & { path: string })[]) => {
    const history = list.filter((row) => Number(row.head) === 2);
    return {
      ...groupRows(list[0].path, list.filter((row) => Number(row.head) !== 2)),
      history: history.map(storedOf),
    };
  };
  for (const row of rows) {
    if (current.length > 0 && current[0].path !== row.path) {
      if (wanted(current[0].path)) yield group(current);
      current = [];
    }
    current.push(row);
  }
  if (current.length > 0 && wanted(current[0].path)) yield group(current);
}

/**
 * The stored body (a version's JSON) of every version folded for `ns`, heads, kept and history,
 * unparsed: for writing them all out (a checkpoint) at the cost of their bytes alone.
 *
 * @example
 * ```ts
 * let bytes = 0;
 * for (const body of everyFoldedBody(state, ns)) bytes += body.length;
 * ```
 */
export function* everyFoldedBody(state: StateDb, ns: string): Generator<Uint8Array> {
  // In the order of everyFoldedVersion's groups: by path, then heads, kept and history by key.
  const rows = ready(state).arrayStatement(
    `SELECT path, 1 - head AS part, key, body FROM journal_versions WHERE ns = ?
     UNION ALL SELECT path, 2 AS part, key, body FROM journal_history WHERE ns = ?
     ORDER BY path, part, key`,
  ).iterate(ns, ns) as unknown as Iterable<[string, number, string, Uint8Array]>;
  for (const [, , , body] of rows) yield body;
}

/** Whether anything was folded for `ns` yet (a device that has read no journal starts from a checkpoint). */
export function hasFolded(state: StateDb, ns: string): boolean {
  return ready(state).statement("SELECT 1 FROM journal_cursors WHERE ns = ? LIMIT 1").get(ns) !==
      undefined ||
    state.statement("SELECT 1 FROM journal_versions WHERE ns = ? LIMIT 1").get(ns) !== undefined;
}

/**
 * Per device, the last segment folded in.
 *
 * @example
 * ```ts
 * const after = journalCursors(state, ns).get(device) ?? 0;
 * ```
 */
export function journalCursors(state: StateDb, ns: string): Map<string, number> {
  const rows = ready(state).statement("SELECT device, seq FROM journal_cursors WHERE ns = ?")
    .all(ns) as unknown as { device: string; seq: number }[];
  return new Map(rows.map((row) => [row.device, Number(row.seq)]));
}

/**
 * Folds `versions` in, and moves `cursors` forward (never back), in one transaction: a
 * crash leaves the fold either before or after a whole segment.
 *
 * @example
 * ```ts
 * foldIn(state, ns, await Promise.all(segment.versions.map((v) => storedVersion(name, v))),
 *   new Map([[segment.device, segment.seq]]));
 * ```
 */
export function foldIn(
  state: StateDb,
  ns: string,
  versions: readonly StoredVersion[],
  cursors: ReadonlyMap<string, number> = new Map(),
): void {
  foldInSlices(state, ns, [versions], cursors);
}

/**
 * Folds in `slices` of versions one after another, then moves `cursors` forward, all in one
 * transaction, so that only one slice need be held at a time: a slice that fails to come (a
 * damaged version found as it is parsed) rolls everything back, and a crash leaves the fold
 * as it was before.
 *
 * @example
 * ```ts
 * const stored = await storedVersionFunction(name);
 * foldInSlices(state, ns, mapSlices(checkpoint.slices(), stored), cursors);
 * ```
 */
export function foldInSlices(
  state: StateDb,
  ns: string,
  slices: Iterable<readonly StoredVersion[]>,
  cursors: ReadonlyMap<string, number>,
): void {
  ready(state);
  state.transaction(() => {
    let changed = false;
    let first = true;
    for (const versions of slices) {
      // The last slice's versions are garbage now: collected, a checkpoint's fold holds a few
      // slices of heap (a 100,000-version fold peaked at 313 MB RSS without, 214 MB with a
      // collection after each slice). A slice leaves ~6 MB, and a collection after each took 2.2
      // s of an 11 s fold of 100,000 versions (loaded machine): one every few slices.
      if (!first) collectIfGrown();
      first = false;
      changed = foldSlice(state, ns, versions) || changed;
    }
    if (changed || cursors.size > 0) {
      state.statement(
        `INSERT INTO meta (key, value) VALUES (?, '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`,
      ).run(`journal_generation:${ns}`);
    }
    const advance = state.statement(
      `INSERT INTO journal_cursors (ns, device, seq) VALUES (?, ?, ?)
       ON CONFLICT (ns, device) DO UPDATE SET seq = max(seq, excluded.seq)`,
    );
    for (const [device, seq] of cursors) advance.run(ns, device, seq);
  });
}

/** Paths whose folds a slice reads at once: one query for so many, not one each. */
const FOLD_READ_PATHS = 256;

/** Folds `versions` in, inside the caller's transaction; true when a path's heads changed. */
function foldSlice(state: StateDb, ns: string, versions: readonly StoredVersion[]): boolean {
  const incomingFor = new Map<string, StoredVersion[]>();
  for (const incoming of versions) {
    const path = incoming.version.path;
    const arrived = incomingFor.get(path) ?? [];
    arrived.push(incoming);
    incomingFor.set(path, arrived);
  }
  const paths = new Map<string, { before: PathHeads; after: FoldedPath }>();
  const arrivedAt = [...incomingFor.keys()];
  for (let at = 0; at < arrivedAt.length; at += FOLD_READ_PATHS) {
    const block = arrivedAt.slice(at, at + FOLD_READ_PATHS);
    for (const [path, before] of foldedPathsAmong(state, ns, block)) {
      let after: FoldedPath = before;
      for (const incoming of incomingFor.get(path)!) after = foldVersion(after, incoming) ?? after;
      paths.set(path, { before, after });
    }
  }
  const remove = state.statement(
    "DELETE FROM journal_versions WHERE ns = ? AND path = ? AND key = ?",
  );
  const insert = state.statement(
    "INSERT OR REPLACE INTO journal_versions (ns, path, key, head, body) VALUES (?, ?, ?, ?, ?)",
  );
  const toHistory = state.statement(
    "INSERT OR IGNORE INTO journal_history (ns, path, key, body) VALUES (?, ?, ?, ?)",
  );
  let changed = 0;
  for (const [path, { before, after }] of paths) {
    const rows = new Map<string, [StoredVersion, number]>([
      ...after.heads.map((v): [string, [StoredVersion, number]] => [v.key, [v, 1]]),
      ...after.kept.map((v): [string, [StoredVersion, number]] => [v.key, [v, 0]]),
    ]);
    // What is neither a head nor kept is history: superseded on arrival, or pushed out now.
    for (const v of [...before.heads, ...before.kept]) {
      if (!rows.has(v.key)) toHistory.run(ns, path, v.key, bodyOf(v));
    }
    for (const v of incomingFor.get(path) ?? []) {
      if (!rows.has(v.key)) toHistory.run(ns, path, v.key, bodyOf(v));
    }
    if (after === before) continue;
    changed++;
    const was = new Map<string, number>([
      ...before.heads.map((v): [string, number] => [v.key, 1]),
      ...before.kept.map((v): [string, number] => [v.key, 0]),
    ]);
    for (const key of was.keys()) if (!rows.has(key)) remove.run(ns, path, key);
    for (const [key, [v, head]] of rows) {
      if (was.get(key) === head) continue;
      insert.run(ns, path, key, head, bodyOf(v));
    }
  }
  return changed > 0;
}

/**
 * Forgets the fold of the tracked namespace `ns` (a revocation that changes what counts), so the
 * next catch-up folds it afresh.
 *
 * @example
 * ```ts
 * forgetFolded(state, trackedNamespace(ctx));
 * ```
 */
export function forgetFolded(state: StateDb, ns: string): void {
  ready(state);
  state.transaction(() => {
    for (const table of FOLD_TABLES) {
      state.statement(`DELETE FROM ${table} WHERE ns = ?`).run(ns);
    }
  });
}

const FOLD_TABLES = ["journal_versions", "journal_history", "journal_cursors"];

function storedOf(row: { key: string; body: Uint8Array }): StoredVersion {
  return { key: row.key, version: JSON.parse(new TextDecoder().decode(row.body)) as FileVersion };
}

function bodyOf(v: StoredVersion): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v.version));
}

interface Row {
  key: string;
  head: number;
  body: Uint8Array;
}

/** Rows were checked when they were folded in; the state database is this device's own. */
function groupRows(path: string, rows: Row[]): PathHeads {
  const heads: StoredVersion[] = [];
  const kept: StoredVersion[] = [];
  for (const row of rows) (Number(row.head) === 1 ? heads : kept).push(storedOf(row));
  heads.sort((a, b) => (a.key < b.key ? -1 : 1));
  kept.sort((a, b) => (a.key < b.key ? -1 : 1));
  return { path, heads, kept };
}

/**
 * A number that changes whenever the fold of `ns` does: a poll that finds it as it was after
 * its last clean pull has nothing to pull.
 *
 * @example
 * ```ts
 * if (foldGeneration(state, ns) === lastClean) return;
 * ```
 */
export function foldGeneration(state: StateDb, ns: string): string {
  return state.getMeta(`journal_generation:${ns}`) ?? "0";
}

/**
 * Meta keys, each followed by a tracked namespace, that hold what this device knows of a
 * journal. `journal_generation:` is not one: it only ever grows, so a poll that remembered a
 * number from before a reset cannot mistake a new fold for the old one.
 */
const JOURNAL_META = [
  "journal_marker:",
  "journal_revoked:",
  "journal_checkpointed:",
  "journal_floor:",
  "journal_fold_format:",
];

/**
 * Forgets everything known about the journals of the store whose filing prefix is
 * `storePrefix` (`storeFilingPrefix`): for a store that was emptied or replaced.
 *
 * @example
 * ```ts
 * forgetStoreJournals(state, storeFilingPrefix(store.location));
 * ```
 */
export function forgetStoreJournals(state: StateDb, storePrefix: string): void {
  ready(state);
  state.transaction(() => {
    for (const table of FOLD_TABLES) {
      state.statement(`DELETE FROM ${table} WHERE ${startsWithSql("ns")}`)
        .run(...startsWithArgs(storePrefix));
    }
  });
  for (const name of JOURNAL_META) {
    const prefix = `${name}${storePrefix}`;
    state.statement(`DELETE FROM meta WHERE ${startsWithSql("key")}`).run(
      ...startsWithArgs(prefix),
    );
  }
}
