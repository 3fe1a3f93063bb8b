/**
 * `tcfs ls`: the remote tree as its heads describe it.
 *
 * @module
 */

import { isUnderRel } from "../paths/remote_path.ts";
import { namespaceHeads, remoteDisplayPath, type SyncContext } from "./sync_context.ts";

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
}

/**
 * Lists remote paths under `prefix`; deleted paths only with `includeDeleted`.
 *
 * @example
 * ```ts
 * for (const e of await listRemote(ctx, "docs")) console.log(e.path, e.size);
 * ```
 */
export async function listRemote(
  ctx: SyncContext,
  prefix: string,
  includeDeleted = false,
): Promise<RemoteEntry[]> {
  const { byPath } = await namespaceHeads(ctx, (rel) => isUnderRel(rel, prefix));
  const rows: RemoteEntry[] = [];
  for (const { path, heads } of byPath.values()) {
    const latest =
      [...heads].sort((a, b) => (a.version.written_at < b.version.written_at ? 1 : -1))[0];
    const v = latest.version;
    const conflict = heads.length > 1;
    if (v.kind === "deleted" && !conflict && !includeDeleted) continue;
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
    });
  }
  return rows.sort((a, b) => (a.path < b.path ? -1 : 1));
}
