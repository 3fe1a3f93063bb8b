/**
 * Resolving a conflict: the chosen side becomes a new version whose clock
 * dominates every side, so the resolution propagates and clears the
 * conflict on every device. Sides that lose under keep-both or auto are
 * kept as conflict copies, on disk and in the store; no bytes are lost
 * unless the user explicitly chose to drop a side.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { TcfsError } from "../errors.ts";
import { contentDigest } from "../remote/file_digest.ts";
import { dominates } from "../vclock/vector_clock.ts";
import { completeVersion, readPathHeads, type StoredVersion } from "../sync/remote_heads.ts";
import { type LocalEntry, statEntry } from "../sync/local_scanner.ts";
import { createPackWriter, type PackWriter } from "../sync/pack_writer.ts";
import { durableLocalContent } from "../sync/local_content.ts";
import { type VersionContent, writeVersion } from "../sync/version_writer.ts";
import { restoreVersion } from "../sync/file_restorer.ts";
import { adopt } from "../sync/tracked_record.ts";
import type { SyncContext } from "../sync/sync_context.ts";
import { trackedNamespace } from "../sync/sync_context.ts";
import { conflictCopyPath } from "./conflict_copy_name.ts";
import { clearConflict } from "./conflict_queue.ts";

/** What the user can choose. */
export type Resolution = "keep_local" | "keep_remote" | "keep_both";

/** The resolutions, for validation and help text. */
export const RESOLUTIONS: readonly Resolution[] = ["keep_local", "keep_remote", "keep_both"];

/** A conflicted path and where it lives on this device. */
export interface ConflictSite {
  rel: string;
  localPath: string;
}

/** What a resolution did. */
export interface ResolutionOutcome {
  path: string;
  resolution: Resolution | "auto";
  /** Device name whose content now stands at the path. */
  winner: string;
  /** Conflict copies written (paths relative to the namespace). */
  copies: string[];
  version_key: string;
}

/** One side of a conflict: this device's file, or a remote head. */
type Side =
  | { kind: "local"; name: string; id: string; entry: LocalEntry | undefined; when: Date }
  | { kind: "remote"; name: string; id: string; head: StoredVersion; when: Date };

/**
 * Applies the user's choice to a conflicted path.
 *
 * @example
 * ```ts
 * await resolveConflict(ctx, { rel: "notes.txt", localPath: "/home/me/Sync/notes.txt" }, "keep_both");
 * ```
 */
export async function resolveConflict(
  ctx: SyncContext,
  site: ConflictSite,
  resolution: Resolution,
): Promise<ResolutionOutcome> {
  const sides = await loadSides(ctx, site);
  const remotes = sides.filter((s) => s.kind === "remote").sort(byName);
  const local = sides.find((s) => s.kind === "local")!;
  if (resolution === "keep_local") return await apply(ctx, site, local, [], resolution);
  if (remotes.length === 0) {
    throw new TcfsError(`${site.rel} has no remote version to keep`, {
      kind: "no_conflict",
      hint: "nothing to resolve; push the file if you want the remote to have it",
    });
  }
  const [winner, ...otherRemotes] = remotes;
  const copies = resolution === "keep_both" ? [local, ...otherRemotes] : otherRemotes;
  return await apply(ctx, site, winner, copies.filter(hasContent), resolution);
}

/**
 * Resolves without asking: the lexicographically smallest device name wins
 * (a deterministic tie-break every device computes alike); every other side
 * is kept as a conflict copy.
 *
 * @example
 * ```ts
 * await autoResolveConflict(ctx, { rel: "notes.txt", localPath });
 * ```
 */
export async function autoResolveConflict(
  ctx: SyncContext,
  site: ConflictSite,
): Promise<ResolutionOutcome> {
  // A local deletion never beats a modification, so it doesn't take part.
  const all = await loadSides(ctx, site);
  const sides = all.filter(hasContent).sort(byName);
  const [winner, ...losers] = sides.length > 0 ? sides : [all[0]];
  return await apply(ctx, site, winner, losers, "auto");
}

async function loadSides(ctx: SyncContext, site: ConflictSite): Promise<Side[]> {
  const { heads } = await readPathHeads(ctx.store, ctx.state, ctx.namespace, site.rel, {
    revoked: ctx.revoked,
  });
  const base = ctx.state.getTracked(trackedNamespace(ctx), site.rel)?.baseVclock ?? {};
  const entry = await statEntry(site.localPath, site.rel);
  const sides: Side[] = [{
    kind: "local",
    name: ctx.device.name,
    id: ctx.device.id,
    entry,
    when: new Date(entry?.mtimeMs ?? Date.now()),
  }];
  for (const head of heads) {
    if (dominates(base, head.version.vclock)) continue; // the version the local copy came from
    sides.push({
      kind: "remote",
      name: head.version.author_name,
      id: head.version.author,
      head,
      when: new Date(head.version.written_at),
    });
  }
  return sides;
}

function hasContent(side: Side): boolean {
  return side.kind === "remote" ? side.head.version.kind !== "deleted" : side.entry !== undefined;
}

function byName(a: Side, b: Side): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

async function apply(
  ctx: SyncContext,
  site: ConflictSite,
  winner: Side,
  losers: Side[],
  resolution: Resolution | "auto",
): Promise<ResolutionOutcome> {
  const packs = createPackWriter(ctx.store);
  const copies: string[] = [];
  // Copies first: the losing versions are deleted once the winner dominates them.
  for (const loser of losers) copies.push(await keepAsCopy(ctx, site, loser, packs));
  const content: VersionContent = winner.kind === "remote"
    ? await contentOf(ctx, winner.head)
    : await durableLocalContent(winner.entry, packs);
  const seen = await readPathHeads(ctx.store, ctx.state, ctx.namespace, site.rel);
  const base = ctx.state.getTracked(trackedNamespace(ctx), site.rel)?.baseVclock ?? {};
  const written = await writeVersion(ctx, site.rel, content, base, seen);
  if (winner.kind === "remote") {
    await restoreVersion(ctx.store, written.version, site.localPath, {
      counters: { chunksDownloaded: 0, bytesDownloaded: 0 },
    });
  }
  const entry = await statEntry(site.localPath, site.rel);
  if (entry) adopt(ctx, entry, written);
  else ctx.state.deleteTracked(trackedNamespace(ctx), site.rel);
  clearConflict(ctx.state, ctx.namespace, site.rel);
  return { path: site.rel, resolution, winner: winner.name, copies, version_key: written.key };
}

/** Writes a losing side under its conflict-copy name, locally and in the store. */
async function keepAsCopy(
  ctx: SyncContext,
  site: ConflictSite,
  loser: Side,
  packs: PackWriter,
): Promise<string> {
  const copyRel = conflictCopyPath(site.rel, loser.name, loser.when);
  const copyLocal = join(dirname(site.localPath), basename(copyRel));
  const seen = await readPathHeads(ctx.store, ctx.state, ctx.namespace, copyRel);
  if (loser.kind === "local") {
    await Deno.rename(site.localPath, copyLocal);
    const entry = (await statEntry(copyLocal, copyRel))!;
    const written = await writeVersion(
      ctx,
      copyRel,
      await durableLocalContent(entry, packs),
      {},
      seen,
    );
    adopt(ctx, entry, written);
  } else {
    const written = await writeVersion(ctx, copyRel, await contentOf(ctx, loser.head), {}, seen);
    await restoreVersion(ctx.store, written.version, copyLocal, {
      counters: { chunksDownloaded: 0, bytesDownloaded: 0 },
    });
    adopt(ctx, (await statEntry(copyLocal, copyRel))!, written);
  }
  return copyRel;
}

async function contentOf(ctx: SyncContext, head: StoredVersion): Promise<VersionContent> {
  const version = await completeVersion(ctx.store, head);
  const { kind, size, mode, mtime_ms, chunks, inline, target } = version;
  // The content goes into a version of the current format, whose digest covers the chunk list.
  const blake3 = version.format === 1 && kind === "file"
    ? await contentDigest(version)
    : version.blake3;
  return { kind, size, mode, mtime_ms, blake3, chunks, inline, target };
}
