/**
 * Writes a new version of a path that dominates everything its writer has
 * seen, then removes the versions it supersedes, except that a deletion keeps
 * the last content it replaces. The chunks it names must already be durable:
 * the caller uploads them first.
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
import { mergeClocks, tickClock, type VectorClock } from "../vclock/vector_clock.ts";
import {
  type PathHeads,
  reduceToHeads,
  type StoredVersion,
  versionCacheKey,
} from "./remote_heads.ts";
import type { SyncContext } from "./sync_context.ts";

/** The content fields of a version; the writer fills in identity and clock. */
export type VersionContent = Pick<
  FileVersion,
  "kind" | "size" | "mode" | "mtime_ms" | "blake3" | "chunks" | "inline" | "target"
>;

/**
 * Writes `content` as the next version of `rel`, with a clock that
 * dominates `base` and every version in `seen`.
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
  await ctx.store.put(key, body);
  ctx.state.putCachedVersion(versionCacheKey(ctx.store, key), cacheableVersionBody(version));
  await removeSuperseded(ctx, content.kind, [...seen.heads, ...seen.dominated]);
  return { key, version };
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
