/**
 * Records in the state db which version a local path now matches.
 *
 * @module
 */

import type { TrackedEntry } from "../state/state_db.ts";
import type { LocalEntry } from "./local_scanner.ts";
import type { StoredVersion } from "../journal/stored_version.ts";
import type { SyncContext } from "./sync_context.ts";
import { trackedNamespace } from "./sync_context.ts";

/**
 * Records that the local copy is `head`, without transferring anything.
 *
 * @example
 * ```ts
 * adopt(ctx, entry, head); // the local file already had the remote content
 * ```
 */
export function adopt(ctx: SyncContext, entry: LocalEntry, head: StoredVersion): void {
  ctx.state.putTracked(trackedFrom(ctx, entry, head, head.version.blake3));
}

/**
 * Records that `rel`, at `localPath`, is deleted as `head` (a deletion) says.
 *
 * @example
 * ```ts
 * await Deno.remove(localPath);
 * adoptDeletion(ctx, "docs/old.txt", localPath, head);
 * ```
 */
export function adoptDeletion(
  ctx: SyncContext,
  rel: string,
  localPath: string,
  head: StoredVersion,
): void {
  ctx.state.putTracked({
    namespace: trackedNamespace(ctx),
    path: rel,
    localPath,
    kind: "deleted",
    size: 0,
    mtimeMs: 0,
    ino: null,
    mode: 0,
    blake3: "",
    racy: false,
    baseVclock: head.version.vclock,
    baseKey: head.key,
    syncedAt: new Date().toISOString(),
  });
}

/**
 * The state row for `entry` once it matches `version`.
 *
 * @example
 * ```ts
 * ctx.state.putTracked(trackedFrom(ctx, entry, written, content.blake3));
 * ```
 */
export function trackedFrom(
  ctx: SyncContext,
  entry: LocalEntry,
  version: StoredVersion,
  blake3: string,
): TrackedEntry {
  return {
    namespace: trackedNamespace(ctx),
    path: entry.rel,
    localPath: entry.localPath,
    kind: entry.kind,
    size: entry.size,
    mtimeMs: entry.mtimeMs,
    ino: entry.ino,
    mode: entry.mode,
    blake3,
    target: entry.target,
    racy: entry.racy,
    baseVclock: version.version.vclock,
    baseKey: version.key,
    syncedAt: new Date().toISOString(),
  };
}
