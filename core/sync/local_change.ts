/**
 * Change detection against the state db: equal (size, mtime, inode, mode,
 * link target) means unchanged, so an unchanged tree is checked without
 * rehashing it.
 *
 * @module
 */

import type { TrackedEntry, TrackedStat } from "../state/state_db.ts";
import type { LocalEntry } from "./local_scanner.ts";
import { TcfsError, type TcfsErrorKind } from "../errors.ts";
import type { FileVersion } from "../remote/file_version.ts";
import { localFileHasDigest } from "./local_digest.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";

/**
 * True when `entry` still looks exactly as it did when `tracked` was recorded, and that
 * stat can vouch for the content: a racily clean row (`racy_stat.ts`) never can, since a
 * same-size rewrite in its mtime's tick leaves the stat as it was.
 *
 * @example
 * ```ts
 * if (unchangedByStat(state.getTracked(ns, rel), entry)) skip();
 * ```
 */
export function unchangedByStat(tracked: TrackedStat | undefined, entry: LocalEntry): boolean {
  return tracked !== undefined && !tracked.racy && statsEqual(tracked, entry);
}

function statsEqual(tracked: TrackedStat, entry: LocalEntry): boolean {
  return tracked.localPath === entry.localPath &&
    tracked.kind === entry.kind && tracked.size === entry.size &&
    tracked.mtimeMs === entry.mtimeMs && tracked.ino === entry.ino &&
    tracked.mode === entry.mode && tracked.target === entry.target;
}

/**
 * True when a racily clean row's stat still matches and the file's digest shows it unchanged:
 * what {@linkcode unchangedByStat} cannot tell. Only racy rows cost a read.
 *
 * @example
 * ```ts
 * if (unchangedByStat(t, entry) || await racyButUnchanged(t, entry, ctx.keys)) skip();
 * ```
 */
export async function racyButUnchanged(
  tracked: TrackedStat,
  entry: LocalEntry,
  keys?: FleetKeys,
): Promise<boolean> {
  if (!tracked.racy || !statsEqual(tracked, entry)) return false;
  if (entry.kind === "symlink") return true; // its target is in the stat compared
  return await localFileHasDigest(entry.localPath, tracked.blake3, { keys });
}

/**
 * True when `local` differs from what this device last synced at that path (`tracked`):
 * by its stat first, and for a file whose stat changed, by its digest (which is keyed when
 * it was synced in a sealed namespace: `keys` are the namespace's, if it is sealed).
 *
 * @example
 * ```ts
 * if (await modifiedSince(state.getTracked(ns, entry.rel), entry, ctx.keys)) keepLocalEdit();
 * ```
 */
export async function modifiedSince(
  tracked: TrackedEntry | undefined,
  local: LocalEntry,
  keys?: FleetKeys,
): Promise<boolean> {
  if (!tracked || tracked.kind === "deleted" || tracked.localPath !== local.localPath) return true;
  if (unchangedByStat(tracked, local)) return false;
  if (local.kind !== tracked.kind) return true;
  if (local.kind === "symlink") return local.target !== tracked.target;
  return !await localFileHasDigest(local.localPath, tracked.blake3, { keys });
}

/**
 * OS errors about one path's place on disk: something of another kind is in the way (a
 * folder where a file goes, a file where a folder goes), or the name itself is unusable.
 */
const LOCAL_ERROR_CODES = new Set([
  "EISDIR",
  "ENOTDIR",
  "EEXIST",
  "ENOTEMPTY",
  "ENAMETOOLONG",
  "ELOOP",
]);

/**
 * True for errors that concern one local path only (the rest of a transfer
 * goes on); store and programming errors abort the whole operation.
 */
export function isLocalFailure(err: unknown): boolean {
  if (err instanceof TcfsError) {
    const local: TcfsErrorKind[] = [
      "file_changed",
      "local_changed",
      "unsafe_path",
      "path_blocked",
      "corrupt_chunk",
      "corrupt_file",
      "missing_chunk",
      "corrupt_version",
      "missing_version",
    ];
    return local.includes(err.kind);
  }
  return err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotFound ||
    LOCAL_ERROR_CODES.has((err as { code?: string })?.code ?? "");
}

/**
 * True when the local entry already holds exactly what `version` records,
 * so nothing needs to move in either direction. A format 3 version's digest is keyed:
 * `keys` are the fleet's, which a sealed namespace's context holds.
 *
 * @example
 * ```ts
 * if (await sameContent(entry, head.version, ctx.keys)) adopt(ctx, entry, head);
 * ```
 */
export async function sameContent(
  entry: LocalEntry,
  version: FileVersion,
  keys?: FleetKeys,
): Promise<boolean> {
  if (entry.kind !== version.kind) return false;
  if (entry.kind === "symlink") return entry.target === version.target;
  return entry.size === version.size &&
    await localFileHasDigest(entry.localPath, version.blake3, { format: version.format, keys });
}
