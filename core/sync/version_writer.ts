/**
 * Writes a new version of a path that dominates everything its writer has
 * seen, then removes the versions it supersedes. The chunks it names must
 * already be durable: the caller uploads them first.
 *
 * A version key is the author's id plus its counter, so two writers with one
 * device id (a CLI beside a daemon that has not taken the lock yet, a cloned
 * home) can pick the same key. Keys are therefore written only if absent
 * (`If-None-Match: *`): the loser re-reads the path's heads, and the winner's
 * version is then one it has not seen, a conflict rather than an overwrite.
 *
 * @module
 */

import {
  cacheableVersionBody,
  encodeFileVersion,
  type FileVersion,
  VERSION_FORMAT,
} from "../remote/file_version.ts";
import { versionKey } from "../remote/remote_keys.ts";
import { dominates, mergeClocks, tickClock, type VectorClock } from "../vclock/vector_clock.ts";
import { TcfsError } from "../errors.ts";
import {
  type PathHeads,
  readPathHeads,
  type StoredVersion,
  versionCacheKey,
} from "./remote_heads.ts";
import type { SyncContext } from "./sync_context.ts";

/** The content fields of a version; the writer fills in identity and clock. */
export type VersionContent = Pick<
  FileVersion,
  "kind" | "size" | "mode" | "mtime_ms" | "blake3" | "chunks" | "inline" | "target"
>;

/** How many times a write that lost its key to a deletion is tried again. */
const RACE_ATTEMPTS = 3;

/**
 * Thrown by {@linkcode writeVersion} when another writer took the version key
 * and wrote a version this one has not seen: the path is now a conflict.
 */
export class VersionRaceError extends TcfsError {
  /** The heads the writer had not seen, as read after the race. */
  readonly unseen: StoredVersion[];

  constructor(rel: string, unseen: StoredVersion[]) {
    super(`another writer with this device id wrote ${rel} at the same moment`, {
      kind: "version_race",
      hint:
        "nothing was overwritten; the path is a conflict now (tcfs conflicts). If no other tcfs runs here, run tcfs doctor: this device id may be in use on another host",
    });
    this.name = "VersionRaceError";
    this.unseen = unseen;
  }
}

/**
 * Writes `content` as the next version of `rel`, with a clock that
 * dominates `base` and every version in `seen`. When the key is taken, the
 * path's heads are read again: an unseen live head is a conflict
 * ({@linkcode VersionRaceError}), unless it holds this very content, which
 * is then returned as if written; an unseen deletion is superseded by the
 * next try.
 *
 * @throws {VersionRaceError} when another writer's unseen version now stands.
 *
 * @example
 * ```ts
 * const written = await writeVersion(ctx, "a.txt", content, tracked.baseVclock, heads);
 * ```
 */
export async function writeVersion(
  ctx: SyncContext,
  rel: string,
  content: VersionContent,
  base: VectorClock,
  seen: PathHeads,
): Promise<StoredVersion> {
  for (let attempt = 1;; attempt++) {
    const vclock = tickClock(
      mergeClocks(base, ...seen.heads.map((h) => h.version.vclock)),
      ctx.device.id,
    );
    const version: FileVersion = {
      format: VERSION_FORMAT,
      path: rel,
      ...content,
      vclock,
      author: ctx.device.id,
      author_name: ctx.device.name,
      written_at: new Date().toISOString(),
    };
    const key = await versionKey(ctx.namespace, rel, ctx.device.id, vclock[ctx.device.id]);
    const body = encodeFileVersion(version);
    if (await ctx.store.putConditional(key, body, { ifNoneMatch: "*" })) {
      ctx.state.putCachedVersion(versionCacheKey(ctx.store, key), cacheableVersionBody(version));
      await removeSuperseded(ctx, [...seen.heads, ...seen.dominated]);
      return { key, version };
    }
    seen = await readPathHeads(ctx.store, ctx.state, ctx.namespace, rel, { revoked: ctx.revoked });
    const unseen = seen.heads.filter((h) => !dominates(base, h.version.vclock));
    const unseenLive = unseen.filter((h) => h.version.kind !== "deleted");
    const same = seen.heads.length === 1 && unseenLive.length === 1 &&
      sameVersionContent(unseenLive[0].version, content);
    if (same) return unseenLive[0];
    if (unseenLive.length > 0 || attempt === RACE_ATTEMPTS) {
      throw new VersionRaceError(rel, unseen);
    }
  }
}

function sameVersionContent(version: FileVersion, content: VersionContent): boolean {
  return version.kind === content.kind && version.blake3 === content.blake3 &&
    version.target === content.target;
}

/**
 * Deletes versions a newer one dominates. Immutable and already dominated,
 * they are safe to remove by anyone; failures only leave garbage behind.
 */
async function removeSuperseded(ctx: SyncContext, versions: StoredVersion[]): Promise<void> {
  await Promise.allSettled(versions.map((v) => ctx.store.delete(v.key)));
}
