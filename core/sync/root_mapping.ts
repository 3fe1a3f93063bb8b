/**
 * How local paths and remote paths map onto each other by default: inside
 * `sync_root` a path keeps its place; elsewhere it goes under its own name.
 *
 * @module
 */

import { basename, join, relative, resolve, sep } from "node:path";
import { TcfsError } from "../errors.ts";
import { leadsOutside } from "../paths/leads_outside.ts";

/**
 * The remote path (relative to the namespace) a local path pushes to.
 *
 * @example
 * ```ts
 * defaultRemoteRel("/home/me/Sync/docs", "/home/me/Sync"); // "docs"
 * defaultRemoteRel("/tmp/report.pdf", "/home/me/Sync"); // "report.pdf"
 * ```
 */
export function defaultRemoteRel(localPath: string, syncRoot?: string): string {
  const absolute = resolve(localPath);
  if (syncRoot && isInside(absolute, syncRoot)) {
    return relative(resolve(syncRoot), absolute).split(sep).join("/");
  }
  return basename(absolute);
}

/**
 * Where a remote path lands locally when no local path is given.
 *
 * @example
 * ```ts
 * defaultLocalTarget("docs", "/home/me/Sync", "/tmp"); // "/home/me/Sync/docs"
 * defaultLocalTarget("docs", undefined, "/tmp"); // "/tmp/docs"
 * ```
 */
export function defaultLocalTarget(rel: string, syncRoot: string | undefined, cwd: string): string {
  if (syncRoot) return join(resolve(syncRoot), ...rel.split("/").filter((s) => s !== ""));
  if (rel === "") {
    throw new TcfsError("pulling a whole namespace needs a local folder", {
      exitCode: 2,
      kind: "usage",
      hint: "give one (tcfs pull tcfs/default/ ~/Sync), or set [sync] sync_root",
    });
  }
  return join(cwd, rel.slice(rel.lastIndexOf("/") + 1));
}

/**
 * Where a remote path of `namespace` lives under the sync root: undefined when no root is
 * configured or the path belongs to another namespace than the one synced there.
 *
 * @example
 * ```ts
 * placeInSyncRoot("docs/a.txt", "default", { syncRoot: "/home/me/Sync", namespace: "default" });
 * // "/home/me/Sync/docs/a.txt"
 * ```
 */
export function placeInSyncRoot(
  rel: string,
  namespace: string,
  sync: { syncRoot?: string; namespace: string },
): string | undefined {
  if (!sync.syncRoot || namespace !== sync.namespace) return undefined;
  return defaultLocalTarget(rel, sync.syncRoot, sync.syncRoot);
}

function isInside(path: string, root: string): boolean {
  const rel = relative(resolve(root), path);
  return !leadsOutside(rel);
}
