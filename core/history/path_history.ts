/**
 * A path's history as `tcfs log` shows it and `tcfs restore` chooses from: every version this
 * device's fold holds for it (heads, the content its deletion keeps, and the versions they
 * superseded that the retention policy still keeps), newest first.
 *
 * @module
 */

import type { FileVersion } from "../remote/file_version.ts";
import type { StoredVersion } from "../journal/stored_version.ts";
import { everyFoldedVersion, foldedHistory, foldedPath } from "../journal/folded_versions.ts";
import { catchUp } from "../journal/journal_catch_up.ts";
import { type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import { compareClocks } from "../vclock/vector_clock.ts";
import { isUnderRel } from "../paths/remote_path.ts";
import { covers } from "../journal/head_fold.ts";

/** One version of a path, as history lists it. */
export interface HistoryEntry {
  /** What `tcfs restore --version` takes: the author's id (8 characters) and its counter. */
  id: string;
  /** The version's full name ({@linkcode StoredVersion.key}). */
  key: string;
  version: FileVersion;
  /** A current head: the file as it is now (several heads: a conflict). */
  head: boolean;
  /** Written concurrently with another version of the path: one side of a conflict. */
  conflict: boolean;
}

/** A path's history: its entries newest first. */
export interface PathHistory {
  path: string;
  entries: HistoryEntry[];
}

/**
 * The short id of a version: the first 8 characters of its author's id and the author's
 * counter, unique within one path.
 *
 * @example
 * ```ts
 * versionId(version); // "3f2a9c1d-7"
 * ```
 */
export function versionId(version: FileVersion): string {
  return `${version.author.slice(0, 8)}-${version.vclock[version.author] ?? 0}`;
}

/**
 * The history of every path under `prefix` ("" for all), after catching up with the store,
 * paths in order.
 *
 * @example
 * ```ts
 * for (const { path, entries } of await historyUnder(ctx, "docs")) console.log(path, entries.length);
 * ```
 */
export async function historyUnder(ctx: SyncContext, prefix: string): Promise<PathHistory[]> {
  for (const err of await catchUp(ctx)) ctx.log?.("warning", err.message);
  const found: PathHistory[] = [];
  const wanted = (rel: string) => isUnderRel(rel, prefix);
  for (const group of everyFoldedVersion(ctx.state, trackedNamespace(ctx), wanted)) {
    found.push({
      path: group.path,
      entries: historyEntries(group.heads, [...group.kept, ...group.history]),
    });
  }
  return found;
}

/**
 * The history of one path (empty when the fold holds no version of it).
 *
 * @example
 * ```ts
 * const { entries } = await pathHistory(ctx, "docs/a.txt");
 * ```
 */
export async function pathHistory(ctx: SyncContext, rel: string): Promise<PathHistory> {
  for (const err of await catchUp(ctx)) ctx.log?.("warning", err.message);
  const ns = trackedNamespace(ctx);
  const { heads, kept } = foldedPath(ctx.state, ns, rel);
  return {
    path: rel,
    entries: historyEntries(heads, [...kept, ...foldedHistory(ctx.state, ns, rel)]),
  };
}

/**
 * Orders a path's versions newest first (by time written, then by name) and marks heads and
 * conflict sides.
 *
 * @example
 * ```ts
 * const entries = historyEntries(folded.heads, [...folded.kept, ...folded.history]);
 * ```
 */
export function historyEntries(
  heads: readonly StoredVersion[],
  older: readonly StoredVersion[],
): HistoryEntry[] {
  const all = [...heads, ...older];
  const entries = all.map((stored) => ({
    id: versionId(stored.version),
    key: stored.key,
    version: stored.version,
    head: heads.includes(stored),
    conflict: all.some((other) =>
      other !== stored &&
      compareClocks(other.version.vclock, stored.version.vclock) === "concurrent"
    ),
  }));
  return entries.sort((a, b) =>
    a.version.written_at === b.version.written_at
      ? (a.key < b.key ? 1 : -1)
      : (a.version.written_at < b.version.written_at ? 1 : -1)
  );
}

/**
 * The version a path had at `at`: of the versions written by then, the newest of those no
 * other one supersedes (a conflict at that moment gives its newest side). Undefined when no
 * version was written by then; a deletion when the path was deleted then.
 *
 * @example
 * ```ts
 * const then = versionAt(entries, new Date("2026-12-03T08:00:00Z"));
 * ```
 */
export function versionAt(entries: readonly HistoryEntry[], at: Date): HistoryEntry | undefined {
  const when = at.toISOString();
  const written = entries.filter((e) => e.version.written_at <= when);
  const stored = (e: HistoryEntry): StoredVersion => ({ key: e.key, version: e.version });
  return written.find((e) =>
    !written.some((other) => other !== e && covers(stored(other), stored(e)))
  );
}

/**
 * What a deleted path held before its deletion: the newest version with content. Undefined
 * for a path that is not deleted (a live head) or held no content.
 *
 * @example
 * ```ts
 * const before = beforeDeletion(entries);
 * ```
 */
export function beforeDeletion(entries: readonly HistoryEntry[]): HistoryEntry | undefined {
  const heads = entries.filter((e) => e.head);
  if (heads.length === 0 || heads.some((e) => e.version.kind !== "deleted")) return undefined;
  return entries.find((e) => e.version.kind !== "deleted");
}
