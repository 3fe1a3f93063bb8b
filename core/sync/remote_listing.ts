/**
 * `tcfs ls`: the remote tree as its heads describe it.
 *
 * @module
 */

import { isUnderRel } from "../paths/remote_path.ts";
import { namespaceHeads, remoteDisplayPath, type SyncContext } from "./sync_context.ts";
import type { StoredVersion } from "../journal/stored_version.ts";
import { beforeDeletion, historyEntries } from "../history/path_history.ts";

/** One remote path. */
export interface RemoteEntry {
  path: string;
  remote: string;
  kind: "file" | "symlink" | "deleted";
  size: number;
  author: string;
  author_name: string;
  written_at: string;
  /** More than one head: concurrent versions wait for a resolution. */
  conflict: boolean;
  versions: number;
  /**
   * For a deleted path (every head a deletion): the content `tcfs restore <path>` brings back,
   * when history still holds it.
   */
  last_content?: { id: string; size: number; author_name: string; written_at: string };
}

/**
 * The head a listing shows for a path: the one written last (a conflict's other heads wait
 * for a resolution).
 *
 * @example
 * ```ts
 * const shown = newestHead(heads).version;
 * ```
 */
export function newestHead(heads: StoredVersion[]): StoredVersion {
  return [...heads].sort((a, b) => (a.version.written_at < b.version.written_at ? 1 : -1))[0];
}

/** Which paths a listing shows: live ones, also deleted ones, or only deleted ones. */
export type DeletedPaths = "hide" | "include" | "only";

/**
 * Lists remote paths under `prefix`. A path whose newest head is a deletion shows with
 * `"include"` (or as a conflict), and with `"only"` just the paths every head of which is a
 * deletion.
 *
 * @example
 * ```ts
 * for (const e of await listRemote(ctx, "docs")) console.log(e.path, e.size);
 * for (const e of await listRemote(ctx, "", "only")) console.log(e.path, e.last_content?.size);
 * ```
 */
export async function listRemote(
  ctx: SyncContext,
  prefix: string,
  deleted: DeletedPaths = "hide",
): Promise<RemoteEntry[]> {
  const { byPath } = await namespaceHeads(ctx, (rel) => isUnderRel(rel, prefix));
  const rows: RemoteEntry[] = [];
  for (const { path, heads, kept } of byPath.values()) {
    const v = newestHead(heads).version;
    const conflict = heads.length > 1;
    const gone = heads.every((head) => head.version.kind === "deleted");
    if (deleted === "only" ? !gone : deleted === "hide" && v.kind === "deleted" && !conflict) {
      continue;
    }
    // The same choice as a restore without --version or --at makes.
    const last = gone ? beforeDeletion(historyEntries(heads, kept)) : undefined;
    rows.push({
      path,
      remote: remoteDisplayPath(ctx, path),
      kind: v.kind,
      size: v.size,
      author: v.author,
      author_name: v.author_name,
      written_at: v.written_at,
      conflict,
      versions: heads.length,
      ...(last
        ? {
          last_content: {
            id: last.id,
            size: last.version.size,
            author_name: last.version.author_name,
            written_at: last.version.written_at,
          },
        }
        : {}),
    });
  }
  return rows.sort((a, b) => (a.path < b.path ? -1 : 1));
}
