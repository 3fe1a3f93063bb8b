/**
 * Resolving a conflict: the chosen side becomes a new version whose clock
 * dominates exactly the heads the resolver read (and showed), so the resolution
 * propagates and clears the conflict on every device. A version written meanwhile
 * by a third device is never covered, superseded or deleted: it stops the
 * resolution, which then is a new conflict (auto mode resolves again, including it).
 * Sides that lose under keep-both or auto are kept as conflict copies, on disk and
 * in the store, named from the losing version so every device makes the same copy;
 * no bytes are lost unless the user explicitly chose to drop a side.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { TcfsError } from "../errors.ts";
import { dominates } from "../vclock/vector_clock.ts";
import type { StoredVersion } from "../journal/stored_version.ts";
import { type LocalEntry, statEntry } from "../sync/local_scanner.ts";
import { contextPackWriter, type PackWriter } from "../sync/pack_writer.ts";
import { durableLocalContent } from "../sync/local_content.ts";
import { modifiedSince } from "../sync/local_change.ts";
import {
  sameVersionContent,
  type VersionContent,
  VersionRaceError,
  writeVersion,
} from "../journal/version_batch.ts";
import { restoreVersion, writtenEntry } from "../sync/file_restorer.ts";
import { storedContent } from "../journal/stored_content.ts";
import { inLinkFreeFolder, mappedRoot } from "../paths/link_free_folder.ts";
import { adopt } from "../sync/tracked_record.ts";
import { pathHeads, type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import { conflictCopyPath, parseConflictCopy } from "./conflict_copy_name.ts";
import { capConflictCopies } from "./conflict_copy_cap.ts";
import type { ConflictSite } from "./conflict_site.ts";
import { removeDurably, sameEntryStat } from "../sync/unchanged_removal.ts";
import { syncDirectory } from "../io/durable_directory.ts";
import { clearConflict, queueConflict } from "./conflict_queue.ts";

/** What the user can choose. */
export type Resolution = "keep_local" | "keep_remote" | "keep_both";

/** The resolutions, for validation and help text. */
export const RESOLUTIONS: readonly Resolution[] = ["keep_local", "keep_remote", "keep_both"];

/** What a resolution did. */
export interface ResolutionOutcome {
  path: string;
  resolution: Resolution | "auto";
  /** Device name whose content now stands at the path. */
  winner: string;
  /** Conflict copies written or adopted (paths relative to the namespace). */
  copies: string[];
  /** Older conflict copies of the path deleted to stay within `[sync] max_conflicts`. */
  copies_deleted: string[];
  version_key: string;
}

/**
 * One side of a conflict: this device's file, or a remote head. The local side holds
 * `version` when it is unchanged since this device synced that head; it is `stale` when
 * it is unchanged since a version the fleet has already superseded.
 */
type Side = LocalSide | {
  kind: "remote";
  name: string;
  id: string;
  head: StoredVersion;
  when: Date;
};

/** This device's side; `entry` is the file as stat'ed before its content was read. */
interface LocalSide {
  kind: "local";
  name: string;
  id: string;
  entry: LocalEntry | undefined;
  when: Date;
  version?: StoredVersion;
  stale: boolean;
}

/** What the resolver read: the sides, and every head the resolution will cover. */
interface LoadedConflict {
  sides: Side[];
  shown: StoredVersion[];
}

/** How many times auto mode resolves again when new versions keep arriving. */
const AUTO_ATTEMPTS = 3;

/**
 * Applies the user's choice to a conflicted path. When another device writes a
 * version of it meanwhile, nothing is overwritten: the conflict is queued again
 * (with that author) and a `conflict_changed` error says so.
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
  const loaded = await loadConflict(ctx, site);
  const remotes = loaded.sides.filter((s) => s.kind === "remote").sort(byName);
  const local = localSide(loaded);
  let winner: Side = local;
  let losers: Side[] = [];
  if (resolution !== "keep_local") {
    if (remotes.length === 0) {
      throw new TcfsError(`${site.rel} has no remote version to keep`, {
        kind: "no_conflict",
        hint: "nothing to resolve; push the file if you want the remote to have it",
      });
    }
    [winner, ...losers] = remotes;
    if (resolution === "keep_both") losers.unshift(local);
  }
  try {
    return await apply(ctx, site, loaded, winner, losers.filter(hasContent), resolution);
  } catch (err) {
    if (changedMeanwhile(err)) {
      queueConflict(ctx.state, {
        namespace: ctx.namespace,
        path: site.rel,
        local_path: site.localPath,
        detected_by: "resolve",
        detected_at: new Date().toISOString(),
        remote_authors: remotes.map((s) => s.name),
      });
    }
    throw err;
  }
}

/**
 * Resolves without asking: the lexicographically smallest device name wins
 * (a deterministic tie-break every device computes alike); every other side
 * is kept as a conflict copy. A path that is itself a conflict copy keeps its
 * newest side and makes no copy of a copy. Versions written meanwhile are
 * included by resolving again, a few times at most.
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
  for (let attempt = 1;; attempt++) {
    const loaded = await loadConflict(ctx, site);
    // A local deletion never beats a modification, so it doesn't take part; nor does a
    // local copy of a version the fleet has superseded.
    const sides = loaded.sides.filter((s) => hasContent(s) && !(s.kind === "local" && s.stale));
    const ordered = parseConflictCopy(site.rel)
      ? [...sides].sort((a, b) => b.when.getTime() - a.when.getTime()).slice(0, 1)
      : [...sides].sort(byName);
    // Nothing left with content: a remote deletion stands (else the local deletion).
    const fallback = loaded.sides.find((s) => s.kind === "remote") ?? loaded.sides[0];
    const [winner, ...losers] = ordered.length > 0 ? ordered : [fallback];
    try {
      return await apply(ctx, site, loaded, winner, losers, "auto");
    } catch (err) {
      if (!changedMeanwhile(err) || attempt >= AUTO_ATTEMPTS) throw err;
      ctx.log?.("info", `${(err as Error).message}; resolving again`);
    }
  }
}

/**
 * A version the resolution had not read turned up: seen on reading the heads again, or
 * as the writer that took this device's next version key first.
 */
function changedMeanwhile(err: unknown): boolean {
  return err instanceof VersionRaceError ||
    (err instanceof TcfsError && err.kind === "conflict_changed");
}

async function loadConflict(ctx: SyncContext, site: ConflictSite): Promise<LoadedConflict> {
  const { heads } = await pathHeads(ctx, site.rel);
  const tracked = ctx.state.getTracked(trackedNamespace(ctx), site.rel);
  const base = tracked?.baseVclock ?? {};
  const entry = await statEntry(site.localPath, site.rel);
  const unchanged = entry !== undefined && !await modifiedSince(tracked, entry, ctx.keys);
  const baseHead = unchanged ? heads.find((h) => h.key === tracked?.baseKey) : undefined;
  const sides: Side[] = [{
    kind: "local",
    name: ctx.device.name,
    id: ctx.device.id,
    entry,
    when: new Date(baseHead?.version.written_at ?? entry?.mtimeMs ?? Date.now()),
    version: baseHead,
    stale: unchanged && baseHead === undefined,
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
  return { sides, shown: heads };
}

function localSide(loaded: LoadedConflict): LocalSide {
  return loaded.sides.find((s): s is LocalSide => s.kind === "local")!;
}

/** Whether the file is still the one `seen` describes (both absent counts as unchanged). */
async function unchangedSince(seen: LocalEntry | undefined, path: string, rel: string) {
  const now = await statEntry(path, rel);
  return now && seen ? sameEntryStat(now, seen) : now === seen;
}

function hasContent(side: Side): boolean {
  return side.kind === "remote" ? side.head.version.kind !== "deleted" : side.entry !== undefined;
}

function byName(a: Side, b: Side): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A losing side, its content, and where its copy goes. */
interface Copy {
  loser: Side;
  content: VersionContent;
  rel: string;
  localPath: string;
  /** The copy's version once it is in the store (written, or another device's adopted). */
  stored?: StoredVersion;
}

async function apply(
  ctx: SyncContext,
  site: ConflictSite,
  loaded: LoadedConflict,
  winner: Side,
  losers: Side[],
  resolution: Resolution | "auto",
): Promise<ResolutionOutcome> {
  // Refused before anything is written when the file's folder has become a link; each change
  // on disk below checks again.
  const within = mappedRoot(site.localPath, site.rel);
  await inLinkFreeFolder(within, dirname(site.localPath), () => Promise.resolve());
  const packs = contextPackWriter(ctx);
  const content = await contentOfSide(ctx, winner, packs);
  const copies: Copy[] = [];
  for (const loser of losers) {
    const loserContent = await contentOfSide(ctx, loser, packs);
    // A side that holds what stays, or what another copy keeps, needs no copy of its own.
    if (
      [content, ...copies.map((c) => c.content)].some((c) => sameVersionContent(c, loserContent))
    ) {
      continue;
    }
    copies.push({ loser, content: loserContent, rel: "", localPath: "" });
  }
  await assertHeadsUnchanged(ctx, site, loaded);
  // Copies of losing versions first: those versions are deleted once the winner dominates
  // them. A local edit no version holds is copied after, so a resolution stopped by a new
  // version leaves no copy of a side that may yet win.
  const unversioned = (c: Copy) => c.loser.kind === "local" && c.loser.version === undefined;
  for (const copy of copies.filter((c) => !unversioned(c))) await storeCopy(ctx, site, copy);
  const now = await assertHeadsUnchanged(ctx, site, loaded);
  const base = ctx.state.getTracked(trackedNamespace(ctx), site.rel)?.baseVclock ?? {};
  const written = await writeVersion(ctx, site.rel, content, base, {
    path: site.rel,
    heads: loaded.shown,
    kept: now.kept,
  }, { coverOnlySeen: true });
  for (const copy of copies.filter(unversioned)) await storeCopy(ctx, site, copy);
  for (const copy of copies) await placeCopy(ctx, site, copy);
  // The state row claims the resolution only for a file that is what was read (or written
  // here): an edit saved meanwhile keeps the row as it was, so the next push sends that edit.
  const local = localSide(loaded);
  if (written.version.kind === "deleted") {
    if (!local.entry || await removeDurably(local.entry, within)) {
      ctx.state.deleteTracked(trackedNamespace(ctx), site.rel);
    }
  } else if (winner.kind === "remote") {
    const kept = copies.some((c) => c.loser.kind === "local");
    const staged = await restoreVersion(ctx.store, written.version, site.localPath, {
      within,
      counters: { chunksDownloaded: 0, bytesDownloaded: 0 },
      keys: ctx.keys,
      beforeReplace: async () => {
        // Replaced only as read (or once renamed to its copy): an edit saved since stays.
        const now = await statEntry(site.localPath, site.rel);
        if (now && !(local.entry && !kept && sameEntryStat(now, local.entry))) {
          throw localChanged(site);
        }
      },
    });
    adopt(ctx, writtenEntry(staged, site.rel, written.version), written);
  } else if (local.entry && await unchangedSince(local.entry, site.localPath, site.rel)) {
    adopt(ctx, local.entry, written);
  }
  const copiesDeleted = copies.length > 0 ? await capConflictCopies(ctx, site) : [];
  clearConflict(ctx.state, ctx.namespace, site.rel);
  return {
    path: site.rel,
    resolution,
    winner: winner.name,
    copies: copies.map((c) => c.rel),
    copies_deleted: copiesDeleted,
    version_key: written.key,
  };
}

/**
 * Reads the heads again and refuses when any is one the resolution did not read:
 * a version written meanwhile is a new conflict, never covered without being seen.
 */
async function assertHeadsUnchanged(
  ctx: SyncContext,
  site: ConflictSite,
  loaded: LoadedConflict,
) {
  const now = await pathHeads(ctx, site.rel);
  const shown = new Set(loaded.shown.map((h) => h.key));
  const unseen = now.heads.filter((h) => !shown.has(h.key));
  if (unseen.length > 0) {
    const authors = [...new Set(unseen.map((h) => h.version.author_name))].join(", ");
    throw new TcfsError(
      `${site.rel} changed while it was being resolved: ${authors} wrote a version ` +
        "this resolution had not read",
      {
        kind: "conflict_changed",
        hint:
          "nothing was overwritten; look at the conflict again (`tcfs conflicts`) and resolve it",
      },
    );
  }
  return now;
}

/**
 * Puts a losing side in the store under its copy name, unless the store already has that
 * copy (another device resolving the same conflict made it): then it is adopted. Two sides
 * that would share a name but differ get names told apart by their content digest.
 */
async function storeCopy(ctx: SyncContext, site: ConflictSite, copy: Copy): Promise<void> {
  const source = copy.loser.kind === "remote" ? copy.loser.head : copy.loser.version;
  const author = source?.version.author_name ?? copy.loser.name;
  for (const tag of [undefined, copy.content.blake3.slice(0, 8)]) {
    copy.rel = conflictCopyPath(site.rel, author, copy.loser.when, tag);
    copy.localPath = join(dirname(site.localPath), basename(copy.rel));
    const seen = await pathHeads(ctx, copy.rel);
    const live = seen.heads.filter((h) => h.version.kind !== "deleted");
    copy.stored = live.find((h) => sameVersionContent(copy.content, h.version));
    if (copy.stored) return;
    if (live.length === 0 || tag !== undefined) {
      copy.stored = await writeVersion(ctx, copy.rel, copy.content, {}, seen, {
        coverOnlySeen: true,
      });
      return;
    }
  }
}

function localChanged(site: ConflictSite): TcfsError {
  return new TcfsError(`${site.localPath} changed while it was being resolved; kept the edit`, {
    kind: "local_changed",
    hint: "push the file again (`tcfs push`); the edit then meets the resolution as a conflict",
  });
}

/**
 * Brings a stored copy onto this device: the local loser is renamed (only if it is still what
 * was read, else the resolution stops there and the edit stays), others are restored.
 */
async function placeCopy(ctx: SyncContext, site: ConflictSite, copy: Copy): Promise<void> {
  // The copy goes beside the conflicted file, in a folder that must be a real one.
  const within = mappedRoot(site.localPath, site.rel);
  if (copy.loser.kind === "local") {
    const seen = copy.loser.entry!;
    await inLinkFreeFolder(within, dirname(site.localPath), async () => {
      if (!await unchangedSince(seen, site.localPath, site.rel)) throw localChanged(site);
      await Deno.rename(site.localPath, copy.localPath);
      await syncDirectory(dirname(copy.localPath));
    });
    adopt(ctx, { ...seen, rel: copy.rel, localPath: copy.localPath }, copy.stored!);
    return;
  }
  const staged = await restoreVersion(
    ctx.store,
    copy.stored!.version,
    copy.localPath,
    { within, counters: { chunksDownloaded: 0, bytesDownloaded: 0 }, keys: ctx.keys },
  );
  adopt(ctx, writtenEntry(staged, copy.rel, copy.stored!.version), copy.stored!);
}

/** The content a side would put in a version (a local file's chunks are uploaded). */
async function contentOfSide(
  ctx: SyncContext,
  side: Side,
  packs: PackWriter,
): Promise<VersionContent> {
  if (side.kind === "remote") return await storedContent(side.head);
  if (side.version) return await storedContent(side.version);
  return await durableLocalContent(side.entry, packs, { idKey: ctx.keys?.idKey });
}
