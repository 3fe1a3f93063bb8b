/**
 * Sync status: for each path under a local folder (or one file), how the
 * local copy relates to the remote: synced, modified, new, deleted,
 * remote-newer or conflict.
 *
 * @module
 */

import { dominates } from "../vclock/vector_clock.ts";
import { isUnderRel } from "../paths/remote_path.ts";
import { createExcludeMatcher } from "./exclude_matcher.ts";
import { type LocalEntry, scanFolder, statEntry } from "./local_scanner.ts";
import {
  namespaceHeads,
  remoteDisplayPath,
  storeWasReplaced,
  type SyncContext,
  trackedNamespace,
} from "./sync_context.ts";
import { localFileHasDigest } from "./local_digest.ts";
import { sameContent, sameStat } from "./local_change.ts";
import { isUnlinked } from "../state/state_db.ts";

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
  const locals = new Map<string, LocalEntry>();
  const info = await Deno.lstat(request.localPath).catch(() => undefined);
  if (info?.isDirectory) {
    for await (
      const entry of scanFolder(request.localPath, createExcludeMatcher(request.excludes))
    ) {
      const rel = request.remoteRel === "" ? entry.rel : `${request.remoteRel}/${entry.rel}`;
      locals.set(rel, { ...entry, rel });
    }
  } else if (info) {
    const entry = await statEntry(request.localPath, request.remoteRel);
    if (entry) locals.set(entry.rel, entry);
  }
  const { byPath } = await namespaceHeads(ctx, (rel) => isUnderRel(rel, request.remoteRel));
  // What this device synced elsewhere (pushed from another folder) says nothing about this one.
  const here = (path: string) =>
    path === request.localPath || path.startsWith(request.localPath + "/");
  const tracked = new Map(
    ctx.state.listTracked(trackedNamespace(ctx), request.remoteRel)
      .filter((t) => here(t.localPath))
      .map((t) => [t.path, t]),
  );
  const paths = new Set([...locals.keys(), ...byPath.keys(), ...tracked.keys()]);
  const rows: PathStatus[] = [];
  for (const path of [...paths].sort()) {
    const local = locals.get(path);
    const recorded = tracked.get(path);
    // A row recorded for another local path is no base for this one (as in push).
    const t = local && recorded?.localPath !== local.localPath ? undefined : recorded;
    const heads = byPath.get(path)?.heads ?? [];
    const base = t?.baseVclock ?? {};
    const remoteNewer = heads.some((h) => !dominates(base, h.version.vclock));
    const liveRemote = heads.some((h) => h.version.kind !== "deleted");
    let state: PathState;
    if (heads.length > 1) state = "conflict";
    else if (local && (!t || t.kind === "deleted")) {
      if (!liveRemote) state = "new";
      else state = await sameContent(local, heads[0].version) ? "synced" : "conflict";
    } else if (local && t) {
      const modified = !sameStat(t, local) &&
        !(local.kind === "file" && t.kind === "file" &&
          await localFileHasDigest(local.localPath, t.blake3));
      if (modified) state = remoteNewer ? "conflict" : "modified";
      else if (isUnlinked(t) && !liveRemote) state = "new"; // its store was replaced
      else state = remoteNewer ? "remote-newer" : "synced";
    } else if (t && t.kind !== "deleted") {
      state = remoteNewer && liveRemote ? "remote-newer" : "deleted";
    } else if (liveRemote && remoteNewer) state = "remote-newer";
    else continue; // deleted everywhere
    rows.push({
      path,
      remote: remoteDisplayPath(ctx, path),
      local: local?.localPath ?? t?.localPath,
      state,
    });
  }
  return rows;
}
