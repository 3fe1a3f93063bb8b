/**
 * Writes a new version of a path that dominates everything its writer has
 * seen, then removes the versions it supersedes. The chunks it names must
 * already be durable: the caller uploads them first.
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
import { mergeClocks, tickClock, type VectorClock } from "../vclock/vector_clock.ts";
import { type PathHeads, type StoredVersion, versionCacheKey } from "./remote_heads.ts";
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
  const body = encodeStoredVersion(version);
  await ctx.store.put(key, body);
  ctx.state.putCachedVersion(versionCacheKey(ctx.store, key), cacheableVersionBody(version));
  await removeSuperseded(ctx, [...seen.heads, ...seen.dominated]);
  return { key, version };
}

/**
 * Deletes versions a newer one dominates. Immutable and already dominated,
 * they are safe to remove by anyone; failures only leave garbage behind.
 */
async function removeSuperseded(ctx: SyncContext, versions: StoredVersion[]): Promise<void> {
  await Promise.allSettled(versions.map((v) => ctx.store.delete(v.key)));
}
