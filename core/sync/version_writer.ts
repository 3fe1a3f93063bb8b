/**
 * Writes a new version of a path that dominates everything its writer has
 * seen, then removes the versions it supersedes, except that a deletion keeps
 * the last content it replaces. The chunks it names must already be durable:
 * the caller uploads them first.
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
  encodeStoredVersion,
  type FileVersion,
  VERSION_FORMAT,
} from "../remote/file_version.ts";
import { versionKey } from "../remote/remote_keys.ts";
import { dominates, mergeClocks, tickClock, type VectorClock } from "../vclock/vector_clock.ts";
import { TcfsError } from "../errors.ts";
import {
  type PathHeads,
  reduceToHeads,
  type StoredVersion,
  versionCacheKey,
} from "./remote_heads.ts";
import { pathHeads, type SyncContext } from "./sync_context.ts";
import { assertNotRevoked } from "../device/device_registry.ts";

/** The content fields of a version; the writer fills in identity and clock. */
export type VersionContent = Pick<
  FileVersion,
  "kind" | "size" | "mode" | "mtime_ms" | "blake3" | "chunks" | "inline" | "target"
>;

/** How {@linkcode writeVersion} treats versions it turns up after losing its key. */
export interface WriteOptions {
  /**
   * Any version `base` and `seen` do not dominate stops the write, a deletion too: for a
   * writer (a conflict resolution) that promises to cover nothing it has not read.
   */
  coverOnlySeen?: boolean;
}

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
 * next try, unless `options.coverOnlySeen` says not to. A revoked device writes nothing.
 *
 * @throws {VersionRaceError} when another writer's unseen version now stands.
 * @throws {TcfsError} (kind `device_revoked`) when `ctx.revoked` holds this device.
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
  options: WriteOptions = {},
): Promise<StoredVersion> {
  // Every version is written here: a revoked device's resolution, copy cap or repair too.
  assertNotRevoked(ctx.device, ctx.revoked);
  const known = mergeClocks(base, ...seen.heads.map((h) => h.version.vclock));
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
    const body = encodeStoredVersion(version);
    if (await ctx.store.putConditional(key, body, { ifNoneMatch: "*" })) {
      ctx.state.putCachedVersion(versionCacheKey(ctx.store, key), cacheableVersionBody(version));
      await removeSuperseded(ctx, content.kind, [...seen.heads, ...seen.dominated]);
      return { key, version };
    }
    seen = await pathHeads(ctx, rel);
    const unseen = seen.heads.filter((h) => !dominates(base, h.version.vclock));
    const unseenLive = unseen.filter((h) => h.version.kind !== "deleted");
    const same = seen.heads.length === 1 && unseenLive.length === 1 &&
      sameVersionContent(unseenLive[0].version, content);
    if (same) return unseenLive[0];
    const unread = seen.heads.filter((h) => !dominates(known, h.version.vclock));
    if (options.coverOnlySeen && unread.length > 0) throw new VersionRaceError(rel, unread);
    if (unseenLive.length > 0 || attempt === RACE_ATTEMPTS) {
      throw new VersionRaceError(rel, unseen);
    }
  }
}

/**
 * Whether two versions hold the same content: kind, size, digest and link target.
 *
 * @example
 * ```ts
 * sameVersionContent(head.version, content); // true when a push would write it again
 * ```
 */
export function sameVersionContent(a: VersionContent, b: VersionContent): boolean {
  return a.kind === b.kind && a.size === b.size && a.blake3 === b.blake3 && a.target === b.target;
}

/**
 * Deletes versions a newer one dominates. Immutable and already dominated,
 * they are safe to remove by anyone; failures only leave garbage behind. A
 * deletion keeps the newest content it supersedes (every concurrent one), so
 * a deleted path's last content stays reachable: readers reduce by clock and
 * never see it as a head.
 */
async function removeSuperseded(
  ctx: SyncContext,
  kind: VersionContent["kind"],
  versions: StoredVersion[],
): Promise<void> {
  const kept = new Set<string>();
  if (kind === "deleted") {
    const content = versions.filter((v) => v.version.kind !== "deleted");
    for (const head of reduceToHeads("", content).heads) kept.add(head.key);
  }
  await Promise.allSettled(
    versions.filter((v) => !kept.has(v.key)).map((v) => ctx.store.delete(v.key)),
  );
}
