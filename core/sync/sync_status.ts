/**
 * Sync status: for each path under a local folder (or one file), how the
 * local copy relates to the remote: synced, modified, new, deleted,
 * remote-newer, conflict, or unreadable (an entry tcfs cannot look at here: a folder this user
 * may not read, a name or a link target that is not UTF-8; push fails on it alone).
 *
 * @module
 */

import { dominates } from "../vclock/vector_clock.ts";
import { createExcludeMatcher } from "./exclude_matcher.ts";
import { isMachineGitPath } from "../git/git_dir_path.ts";
import { type LocalEntry, namedPathInfo, scanFolder, statEntry } from "./local_scanner.ts";
import {
  foldedPaths,
  remoteDisplayPath,
  storeWasReplaced,
  type SyncContext,
  trackedNamespace,
} from "./sync_context.ts";
import { modifiedSince, sameContent, unchangedByStat } from "./local_change.ts";
import { isUnlinked, type TrackedEntry, type TrackedStat } from "../state/state_db.ts";
import type { FoldedEntry } from "../journal/folded_versions.ts";
import type { StoredVersion } from "../journal/stored_version.ts";
import { mergeByPath } from "../paths/path_merge.ts";
import { comparePaths } from "../paths/path_order.ts";
import { join } from "node:path";
import type { FleetKeys } from "../crypto/fleet_keys.ts";

/** The states a path can be in. */
export type PathState =
  | "synced"
  | "modified"
  | "new"
  | "deleted"
  | "remote-newer"
  | "conflict"
  | "unreadable";

/** One line of `tcfs sync-status`. */
export interface PathStatus {
  path: string;
  remote: string;
  local?: string;
  state: PathState;
}

/** Which folder or file to report on, and where it maps remotely. */
export interface StatusRequest {
  localPath: string;
  remoteRel: string;
  excludes: readonly string[];
}

/**
 * Computes the status of every path under the request, sorted by path.
 *
 * @example
 * ```ts
 * const rows = await syncStatus(ctx, { localPath: "/home/me/Sync", remoteRel: "", excludes: [] });
 * ```
 */
export async function syncStatus(ctx: SyncContext, request: StatusRequest): Promise<PathStatus[]> {
  // An emptied or replaced store holds none of what this device synced with it.
  await storeWasReplaced(ctx);
  const ns = trackedNamespace(ctx);
  const { folded, headsFor } = await foldedPaths(ctx, request.remoteRel);
  // What this device synced elsewhere (pushed from another folder) says nothing about this one.
  const here = (path: string) =>
    path === request.localPath || path.startsWith(request.localPath + "/");
  const trackedHere = function* () {
    for (const t of ctx.state.trackedStats(ns, request.remoteRel)) if (here(t.localPath)) yield t;
  };
  // One pass over the scan, the tracked rows and the fold, all in path order: a path synced
  // and unchanged on both sides costs no parsing and is held no longer than its row.
  // What the scan could not look at, by path: it is no deletion, and below a folder nothing is.
  const unreadable = new Set<string>();
  const inUnreadable = (path: string) => {
    for (let at = path; at !== ""; at = at.slice(0, Math.max(at.lastIndexOf("/"), 0))) {
      if (unreadable.has(at)) return true;
    }
    return false;
  };
  const local = localEntries(request, (rel) => unreadable.add(rel));
  const merged = mergeByPath({
    local: { items: local, path: (e: LocalEntry) => e.rel },
    tracked: { items: trackedHere(), path: (t: TrackedStat) => t.path },
    folded: { items: folded, path: (f: FoldedEntry) => f.path },
  });
  const rows: PathStatus[] = [];
  const listed = new Set<string>();
  for await (const { path, local, tracked, folded } of merged) {
    // Versions of a machine's own git files (pushed by a tcfs that synced them) are no one's.
    if (isMachineGitPath(path)) continue;
    // A row recorded for another local path is no base for this one (as in push).
    const recorded = local && tracked?.localPath !== local.localPath ? undefined : tracked;
    const known = recorded && local && recorded.kind !== "deleted" && folded &&
        folded.soleHead === recorded.baseKey && unchangedByStat(recorded, local)
      ? "synced"
      : await pathState(
        local,
        recorded && ctx.state.getTracked(ns, path),
        folded ? headsFor(path).heads : [],
        ctx.keys,
      );
    if (known === undefined) continue; // deleted everywhere
    // Not seen here because it could not be looked at, not because it is gone.
    const state = !local && inUnreadable(path) ? "unreadable" : known;
    if (state === "unreadable") listed.add(path);
    rows.push({
      path,
      remote: remoteDisplayPath(ctx, path),
      local: local?.localPath ?? recorded?.localPath,
      state,
    });
  }
  // The rest of what the scan could not look at: new names neither side knows of yet (a push
  // would fail on each), and the unreadable folders themselves, which name the cause.
  const unlisted = [...unreadable].filter((path) => !listed.has(path));
  if (unlisted.length === 0) return rows;
  for (const path of unlisted) {
    const below = request.remoteRel === "" ? path : path.slice(request.remoteRel.length + 1);
    const local = below === "" ? request.localPath : join(request.localPath, below);
    rows.push({ path, remote: remoteDisplayPath(ctx, path), local, state: "unreadable" });
  }
  return rows.sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * How `local` relates to what this device synced (`t`) and to the path's `heads`; `keys`
 * (a sealed namespace's) check keyed digests.
 */
async function pathState(
  local: LocalEntry | undefined,
  t: TrackedEntry | undefined,
  heads: readonly StoredVersion[],
  keys: FleetKeys | undefined,
): Promise<PathState | undefined> {
  const base = t?.baseVclock ?? {};
  const remoteNewer = heads.some((h) => !dominates(base, h.version.vclock));
  const liveRemote = heads.some((h) => h.version.kind !== "deleted");
  if (heads.length > 1) return "conflict";
  if (local && (!t || t.kind === "deleted")) {
    if (!liveRemote) return "new";
    return await sameContent(local, heads[0].version, keys) ? "synced" : "conflict";
  }
  if (local && t) {
    // By content, as for a touched file: a link made again with the same target is no edit.
    if (await modifiedSince(t, local, keys)) return remoteNewer ? "conflict" : "modified";
    if (isUnlinked(t) && !liveRemote) return "new"; // its store was replaced
    return remoteNewer ? "remote-newer" : "synced";
  }
  if (t && t.kind !== "deleted") return remoteNewer && liveRemote ? "remote-newer" : "deleted";
  if (liveRemote && remoteNewer) return "remote-newer";
  return undefined;
}

/**
 * The syncable entries at `request.localPath`, in path order; `onUnreadable` is told of each
 * path the scan cannot look at (as a remote path).
 */
async function* localEntries(
  request: StatusRequest,
  onUnreadable: (path: string) => void,
): AsyncGenerator<LocalEntry> {
  const own = await Deno.lstat(request.localPath).catch(() => undefined);
  const info = own && await namedPathInfo(request.localPath, own);
  if (info?.isDirectory) {
    const excluded = createExcludeMatcher(request.excludes, request.remoteRel);
    const remote = (rel: string) => request.remoteRel === "" ? rel : `${request.remoteRel}/${rel}`;
    const unreadable = (rel: string) => onUnreadable(remote(rel));
    for await (const entry of scanFolder(request.localPath, excluded, undefined, unreadable)) {
      // The scan's entry is this pass's alone: its path is made the remote one in place.
      if (request.remoteRel !== "") entry.rel = `${request.remoteRel}/${entry.rel}`;
      yield entry;
    }
  } else if (info) {
    const entry = await statEntry(request.localPath, request.remoteRel);
    if (entry) yield entry;
  }
}
