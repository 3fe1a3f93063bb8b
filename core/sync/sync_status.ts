/**
 * Sync status: for each path under a local folder (or one file), how the
 * local copy relates to the remote: synced, modified, new, deleted,
 * remote-newer or conflict.
 *
 * @module
 */

import { dominates } from "../vclock/vector_clock.ts";
import { createExcludeMatcher } from "./exclude_matcher.ts";
import { isMachineGitPath } from "../git/git_dir_path.ts";
import { type LocalEntry, scanFolder, statEntry } from "./local_scanner.ts";
import {
  foldedPaths,
  remoteDisplayPath,
  storeWasReplaced,
  type SyncContext,
  trackedNamespace,
} from "./sync_context.ts";
import { localFileHasDigest } from "./local_digest.ts";
import { sameContent, unchangedByStat } from "./local_change.ts";
import { isUnlinked, type TrackedEntry, type TrackedStat } from "../state/state_db.ts";
import type { FoldedEntry } from "../journal/folded_versions.ts";
import type { StoredVersion } from "../journal/stored_version.ts";
import { mergeByPath } from "../paths/path_merge.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";

/** The states a path can be in. */
export type PathState = "synced" | "modified" | "new" | "deleted" | "remote-newer" | "conflict";

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
  const merged = mergeByPath({
    local: { items: localEntries(request), path: (e: LocalEntry) => e.rel },
    tracked: { items: trackedHere(), path: (t: TrackedStat) => t.path },
    folded: { items: folded, path: (f: FoldedEntry) => f.path },
  });
  const rows: PathStatus[] = [];
  for await (const { path, local, tracked, folded } of merged) {
    // Versions of a machine's own git files (pushed by a tcfs that synced them) are no one's.
    if (isMachineGitPath(path)) continue;
    // A row recorded for another local path is no base for this one (as in push).
    const recorded = local && tracked?.localPath !== local.localPath ? undefined : tracked;
    const state = recorded && local && recorded.kind !== "deleted" && folded &&
        folded.soleHead === recorded.baseKey && unchangedByStat(recorded, local)
      ? "synced"
      : await pathState(
        local,
        recorded && ctx.state.getTracked(ns, path),
        folded ? headsFor(path).heads : [],
        ctx.keys,
      );
    if (state === undefined) continue; // deleted everywhere
    rows.push({
      path,
      remote: remoteDisplayPath(ctx, path),
      local: local?.localPath ?? recorded?.localPath,
      state,
    });
  }
  return rows;
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
    const modified = !unchangedByStat(t, local) &&
      !(local.kind === "file" && t.kind === "file" &&
        await localFileHasDigest(local.localPath, t.blake3, { keys }));
    if (modified) return remoteNewer ? "conflict" : "modified";
    if (isUnlinked(t) && !liveRemote) return "new"; // its store was replaced
    return remoteNewer ? "remote-newer" : "synced";
  }
  if (t && t.kind !== "deleted") return remoteNewer && liveRemote ? "remote-newer" : "deleted";
  if (liveRemote && remoteNewer) return "remote-newer";
  return undefined;
}

/** The syncable entries at `request.localPath`, in path order. */
async function* localEntries(request: StatusRequest): AsyncGenerator<LocalEntry> {
  const info = await Deno.lstat(request.localPath).catch(() => undefined);
  if (info?.isDirectory) {
    const excluded = createExcludeMatcher(request.excludes, request.remoteRel);
    for await (const entry of scanFolder(request.localPath, excluded)) {
      // The scan's entry is this pass's alone: its path is made the remote one in place.
      if (request.remoteRel !== "") entry.rel = `${request.remoteRel}/${entry.rel}`;
      yield entry;
    }
  } else if (info) {
    const entry = await statEntry(request.localPath, request.remoteRel);
    if (entry) yield entry;
  }
}
