/**
 * `tcfs restore`: brings back a file or a whole folder as it was. Without a local target the
 * old content becomes a new version on top of the current heads, so it reaches the fleet like
 * any edit and can itself be undone; with one, it is only written there.
 *
 * No content is uploaded: the new version names the chunks the old one named, after checking
 * that their packs are still in the store (gc may have collected a version's content once the
 * retention policy let it go).
 *
 * @module
 */

import { join } from "node:path";
import type { FileVersion } from "../remote/file_version.ts";
import { contentObjectKey } from "../remote/content_objects.ts";
import { TcfsError } from "../errors.ts";
import type { SyncContext } from "../sync/sync_context.ts";
import { headsLookup } from "../sync/sync_context.ts";
import { openVersionBatch, sameVersionContent } from "../journal/version_batch.ts";
import { mergeClocks } from "../vclock/vector_clock.ts";
import { restoreVersion } from "../sync/file_restorer.ts";
import {
  beforeDeletion,
  type HistoryEntry,
  historyUnder,
  pathHistory,
  versionAt,
  versionId,
} from "./path_history.ts";

/** What to restore. */
export interface RestoreRequest {
  /** A remote file or folder, relative to the namespace ("" = everything). */
  rel: string;
  /** One version of a file, by id (`tcfs log`) or full key. */
  version?: string;
  /** The moment to go back to. */
  at?: Date;
  /** Write the old content here (a file, or a folder for a folder) instead of on top. */
  to?: string;
  /** Only say what would be restored. */
  dryRun?: boolean;
}

/** One path a restore brings back. */
export interface RestoredPath {
  path: string;
  /** The version whose content comes back. */
  from: HistoryEntry;
  /** `unchanged`: the current head already holds that content. */
  action: "restore" | "unchanged";
  /** Where it was written, for a restore to a local target. */
  local?: string;
  /** The new version's id, for a restore on top. */
  new_version?: string;
}

/**
 * Restores what `request` names; returns what it brought back.
 *
 * @example
 * ```ts
 * await restoreHistory(ctx, { rel: "docs/a.txt", at: new Date(Date.now() - 2 * 3600_000) });
 * ```
 */
export async function restoreHistory(
  ctx: SyncContext,
  request: RestoreRequest,
): Promise<RestoredPath[]> {
  const chosen = await choose(ctx, request);
  const items: RestoredPath[] = [];
  const headsNow = await headsLookup(ctx);
  for (const { path, from } of chosen) {
    const { heads } = headsNow(path);
    const current = heads.length === 1 && sameVersionContent(heads[0].version, from.version);
    items.push({ path, from, action: current && !request.to ? "unchanged" : "restore" });
  }
  if (request.dryRun) return items;
  const wanted = items.filter((item) => item.action === "restore");
  await assertContentStored(ctx, wanted.map((item) => item.from.version));
  if (request.to !== undefined) {
    const to = request.to;
    const single = chosen.length === 1 && chosen[0].path === request.rel;
    const counters = { chunksDownloaded: 0, bytesDownloaded: 0 };
    for (const item of wanted) {
      item.local = single ? to : join(to, below(request.rel, item.path));
      await restoreVersion(ctx.store, item.from.version, item.local, {
        within: single ? join(item.local, "..") : to,
        counters,
        keys: ctx.keys,
      });
    }
    return items;
  }
  // Read again just before writing: what the store holds now is what the new versions cover.
  const headsBeforeWrite = await headsLookup(ctx);
  const seen = wanted.map((item) => headsBeforeWrite(item.path));
  const batch = openVersionBatch(ctx);
  const written = wanted.map((item, i) =>
    batch.write(
      item.path,
      contentOf(item.from.version),
      mergeClocks(...seen[i].heads.map((h) => h.version.vclock)),
      seen[i],
    )
  );
  await batch.flush();
  (await Promise.all(written)).forEach((stored, i) => {
    wanted[i].new_version = versionId(stored.version);
  });
  return items;
}

/** The paths and versions a request names. */
async function choose(
  ctx: SyncContext,
  request: RestoreRequest,
): Promise<{ path: string; from: HistoryEntry }[]> {
  const single = await pathHistory(ctx, request.rel);
  if (single.entries.length > 0) {
    return [{ path: request.rel, from: chooseOne(request, single.entries) }];
  }
  if (request.version !== undefined) {
    throw new TcfsError(`${request.rel || "the namespace root"} has no history of its own`, {
      kind: "not_found",
      hint:
        "--version names a version of one file; for a folder use --at, and `tcfs log` lists a file's versions",
    });
  }
  const found: { path: string; from: HistoryEntry }[] = [];
  const under = await historyUnder(ctx, request.rel);
  if (under.length === 0) {
    throw new TcfsError(
      `${request.rel || "the namespace"} has no history: no version of it is known`,
      {
        kind: "not_found",
        hint: "check the path (`tcfs ls --all` lists every path, deleted ones too)",
      },
    );
  }
  for (const { path, entries } of under) {
    const from = request.at ? versionAt(entries, request.at) : beforeDeletion(entries);
    if (from && from.version.kind !== "deleted") found.push({ path, from });
  }
  if (found.length === 0) {
    throw new TcfsError(
      request.at
        ? `nothing under ${
          request.rel || "the namespace root"
        } existed at ${request.at.toISOString()}`
        : `nothing under ${request.rel || "the namespace root"} is deleted`,
      {
        kind: "not_found",
        hint: request.at
          ? "`tcfs log <path>` lists what history keeps, with times"
          : "`tcfs ls --deleted` lists deleted paths; give --at to go back in time",
      },
    );
  }
  return found;
}

function chooseOne(request: RestoreRequest, entries: HistoryEntry[]): HistoryEntry {
  const rel = request.rel;
  if (request.version !== undefined) {
    const match = entries.find((e) => e.id === request.version || e.key === request.version);
    if (!match) {
      throw new TcfsError(`${rel} has no version ${request.version}`, {
        kind: "not_found",
        hint:
          `\`tcfs log ${rel}\` lists its versions; history keeps what the retention policy keeps`,
      });
    }
    if (match.version.kind === "deleted") throw deletionChosen(rel);
    return match;
  }
  if (request.at) {
    const then = versionAt(entries, request.at);
    if (!then) {
      throw new TcfsError(`${rel} did not exist yet at ${request.at.toISOString()}`, {
        kind: "not_found",
        hint: `\`tcfs log ${rel}\` lists its versions with times`,
      });
    }
    if (then.version.kind === "deleted") throw deletionChosen(rel);
    return then;
  }
  const before = beforeDeletion(entries);
  if (!before) {
    throw new TcfsError(`${rel} is not deleted`, {
      kind: "invalid_argument",
      hint:
        `give --version or --at to bring back an older version; \`tcfs log\` of the path lists them`,
    });
  }
  return before;
}

function deletionChosen(rel: string): TcfsError {
  return new TcfsError(`${rel} was deleted at that point`, {
    kind: "deleted",
    hint: `\`tcfs log ${rel}\` lists the versions with content`,
  });
}

/** Checks that the packs (or chunk objects) of `versions` are still in the store. */
async function assertContentStored(ctx: SyncContext, versions: FileVersion[]): Promise<void> {
  const objects = new Map<string, FileVersion>();
  for (const version of versions) {
    for (const ref of version.chunks) {
      objects.set(contentObjectKey(ref), version);
    }
  }
  for (const [key, version] of objects) {
    if (await ctx.store.has(key)) continue;
    throw new TcfsError(
      `the content of ${version.path} as of ${version.written_at} is no longer in the store`,
      {
        kind: "history_gone",
        hint:
          "gc collected it after the retention policy let it go; `tcfs log` lists the versions still kept",
      },
    );
  }
}

/** The content fields of `version`, for a new version that holds them again. */
function contentOf(version: FileVersion) {
  // The format goes along: it says how the chunk ids and digest were hashed.
  const { kind, size, mode, mtime_ms, blake3, chunks, inline, target, format } = version;
  return { kind, size, mode, mtime_ms, blake3, chunks, inline, target, format };
}

/** `path` relative to `prefix`. */
function below(prefix: string, path: string): string {
  return prefix === "" ? path : path.slice(prefix.length + 1);
}
