/**
 * Pull: a remote version replaces the local copy only when the local copy
 * is exactly what this device last synced; local edits are never
 * overwritten (that is a conflict), and nothing lands outside the target.
 * Stages: read heads → sweep stale temp files (a folder's pull) → plan per path →
 * deletions, then the rest → record state.
 *
 * Git directories (git_dir_path.ts): a machine's own files there are never pulled; a deletion
 * of an object (another machine's `git gc`) goes last, and only when everything else of the
 * pull went through, so the packs that hold the objects now are in place first; an index
 * is brought in line with a moved HEAD (index_refresh.ts); a loose ref that hides a ref the
 * pulled packed-refs moved keeps both tips (shadowed_refs.ts).
 *
 * Order on disk: a change is durable (the file flushed, then its directory after the rename
 * or removal) before the state db records it. The db may survive a power cut that a directory
 * entry does not; a row claiming a version that the disk lost would make the next push send
 * the old content as a new version over the newer one. A window's restores go through these
 * points together (`restoreWindow`): every file written beside its place, one flush, every
 * rename, one flush, then the records. While one batch goes through its flushes, renames and
 * records, the next is fetched and written (`finishLater`): the disk's flush and the network
 * overlap, and a batch's files are still all written before its first flush.
 *
 * @module
 */

import { collectIfGrown } from "../runtime/full_collection.ts";
import { createBoxOpener } from "../crypto/box_opener.ts";
import { basename, dirname, join, relative } from "node:path";
import { describeError, TcfsError } from "../errors.ts";
import type { ChunkCache } from "../cache/chunk_cache.ts";
import { createLimiter, type Limiter } from "../concurrency/limiter.ts";
import { dominates } from "../vclock/vector_clock.ts";
import { confinedPlace, type MissingFolders } from "../paths/confined_path.ts";
import { checkedFolders } from "../paths/link_free_folder.ts";
import { entryFromInfo, type LocalEntry, namedPathInfo, statEntry } from "./local_scanner.ts";
import { lstatIfPresent } from "../io/lstat_if_present.ts";
import { removeDurably, sameEntryStat } from "./unchanged_removal.ts";
import { saveChunkPrints } from "../state/chunk_prints.ts";
import { rememberChunkLocations } from "../state/chunk_locations.ts";
import {
  discardStaged,
  type ReplaceOptions,
  replaceWithStaged,
  type RestoreOptions,
  type StagedVersion,
  stageVersion,
  writtenEntry,
} from "./file_restorer.ts";
import { type RestoreBatch, restoreBatch } from "../io/restore_durability.ts";
import type { DownloadCounters } from "./verified_content.ts";
import { type ClaimedStore, createPackRunPrefetch } from "./pack_run_prefetch.ts";
import { isLargeFile } from "./pack_writer.ts";
import { chunkIdKey } from "../remote/chunk_id_key.ts";
import { createChunkHasher } from "../hashing/chunk_hasher.ts";
import type { PathHeads, StoredVersion } from "../journal/stored_version.ts";
import {
  foldedPaths,
  type HeadsLookup,
  pathHeads,
  remoteDisplayPath,
  storeWasReplaced,
  type SyncContext,
  trackedNamespace,
  type TransferProgress,
} from "./sync_context.ts";
import {
  emptyPullSummary,
  type PlannedPath,
  type PullAction,
  type PullSummary,
} from "./transfer_summary.ts";
import { adopt, adoptDeletion } from "./tracked_record.ts";
import type { TrackedEntry, TrackedStat } from "../state/state_db.ts";
import type { FoldedEntry } from "../journal/folded_versions.ts";
import { mergeByPath } from "../paths/path_merge.ts";
import { READ_AHEAD_PATHS, readAhead } from "./read_ahead.ts";
import { applyConflictPolicy, type MetConflict } from "../conflicts/conflict_policy.ts";
import { conflictClearer } from "../conflicts/conflict_queue.ts";
import { isLocalFailure, modifiedSince, sameContent } from "./local_change.ts";
import { crashPoint } from "../runtime/crash_point.ts";
import { assertFolderCanGo, removeEmptyFolder } from "./replaced_folder.ts";
import { sweepTempFiles } from "./temp_sweeper.ts";
import { nameClash, type NamesOnDisk, namesOnDisk } from "./names_on_disk.ts";
import { ensureDurableDirectory } from "../io/durable_directory.ts";
import { isInSyncRoot, prepareSyncRoot } from "./root_marker.ts";
import { gitDirPath, isMachineGitPath } from "../git/git_dir_path.ts";
import { refreshIndexes, snapshotIndexes } from "../git/index_refresh.ts";
import { ensureGitDirLayout } from "../git/git_dir_layout.ts";
import { keepShadowedTips, packedRefsOf } from "../git/shadowed_refs.ts";
import { leadsOutside } from "../paths/leads_outside.ts";

/** What to pull and where to. */
export interface PullRequest {
  /** A remote file or prefix, relative to the namespace ("" = everything). */
  remoteRel: string;
  /** The local file (for a remote file) or folder (for a prefix). */
  localTarget: string;
  /**
   * The folder below which tcfs only goes through real folders, never a symlink (missing ones
   * are created). By default the sync root when `localTarget` is inside it, else
   * `localTarget` for a prefix and the folder of `localTarget` for a single path.
   */
  within?: string;
  /**
   * The configured sync root: a pull at or below it needs the root prepared as a push does
   * (root_marker.ts), and goes through no link below it.
   */
  syncRoot?: string;
  /** Only list what would happen (`summary.planned`); write no file and no state. */
  dryRun?: boolean;
  onProgress?: (progress: TransferProgress) => void;
}

/** One path to bring in line with the remote, as listed. */
interface ListedPath {
  rel: string;
  /**
   * Its heads, kept from the listing only for a deletion (deletions are few, small and go
   * first) or a pull of one path: the others' are read again a window at a time, so that a
   * pull never holds every version of the tree at once. Read again, they may be newer than the
   * listing (a catch-up of the daemon's meanwhile): the plan weighs the heads it reads.
   */
  heads?: PathHeads;
  /** Local path, or the path below `localTarget` still to be confined. */
  local: { path: string } | { inside: string };
}

/** One path to bring in line with the remote, with its heads. */
interface PullItem extends ListedPath {
  heads: PathHeads;
}

/**
 * Paths a pull works on at once. Its main thread is the busier side, so more at once only holds
 * more buffers: a real tree's first pull took the same time with 16 as with 32, at 1.8 against
 * 1.9 s of CPU and 269 against 285 MB of peak RSS (30,000 small files: the same).
 */
const PULL_FILE_CONCURRENCY = 16;

/**
 * Large files ({@linkcode isLargeFile}) restored at once, among the
 * {@linkcode PULL_FILE_CONCURRENCY} paths. A push packs such a file alone (`pack_writer.ts`), so
 * it is read in ranges of up to 4 MiB, four ahead, each twice its size once opened: 64 files of
 * 6 MiB, all at once, held 150–230 MB of buffers and peaked at 410–480 MB of RSS; two at a
 * time, 70–80 MB and 230–240 MB, in the same time (four: 280 MB; docs/BENCHMARKS.md).
 */
const LARGE_FILES_AT_ONCE = 2;

/**
 * Paths planned, fetched and restored together: the plans and the pack runs of one window are
 * dropped before the next is read, so a pull's memory does not grow with the tree.
 */
const WINDOW_PATHS = 2048;

/**
 * Pulls one file or a whole prefix. Deletions go first, so that a folder the remote
 * replaced by a file (or a file it replaced by a folder) is out of the way when the new
 * entry comes; a path that fails leaves the others going.
 *
 * @example
 * ```ts
 * const summary = await pull(ctx, { remoteRel: "docs", localTarget: "/home/me/docs" });
 * ```
 */
export async function pull(ctx: SyncContext, request: PullRequest): Promise<PullSummary> {
  const summary = emptyPullSummary();
  const dryRun = request.dryRun ?? false;
  const root = request.syncRoot;
  const inRoot = root !== undefined && isInSyncRoot(request.localTarget, root);
  if (inRoot) {
    // An unmounted drive's empty mount point must not be filled, nor its rows re-pointed.
    await prepareSyncRoot(root, () => ctx.state.syncedPathsFrom(root), { write: !dryRun });
  }
  // Checking the store's identity resets this device's state when the store was replaced.
  summary.store_replaced = !dryRun && await storeWasReplaced(ctx);
  const planned: PlannedPath<PullAction>[] = [];
  let unchanged = 0;
  const { items, folder, into, headsFor, trackedFor, bytesTotal } = await planItems(
    ctx,
    request,
    summary,
    (rel) => {
      unchanged++;
      if (dryRun) planned.push({ path: remoteDisplayPath(ctx, rel), action: "unchanged" });
    },
  );
  summary.unchanged += unchanged;
  const gitDirs = touchedGitDirs(request, dryRun ? [] : items, inRoot);
  const indexes = await snapshotIndexes(gitDirs.all.keys());
  const packedBefore = new Map<string, Map<string, string>>();
  for (const local of gitDirs.packedRefs.keys()) packedBefore.set(local, await packedRefsOf(local));
  // A pull that brings nothing into the folder leaves its leftovers to the next one that does
  // (or to the next push): an idle poll does not walk the tree.
  if (!dryRun && folder && items.length > 0) {
    await sweepTempFiles(request.localTarget, { log: ctx.log });
  }
  const counters: DownloadCounters = { chunksDownloaded: 0, bytesDownloaded: 0 };
  using hasher = createChunkHasher();
  using opener = ctx.keys ? createBoxOpener(ctx.keys) : undefined;
  const progress: TransferProgress = {
    filesDone: unchanged,
    filesTotal: unchanged + items.length,
    bytesDone: 0,
    bytesTotal: 0,
  };
  progress.bytesTotal = bytesTotal;
  summary.bytes_total = progress.bytesTotal;
  const report = () => request.onProgress?.(progress);
  const within = request.within ?? (inRoot ? root : undefined) ?? into ??
    (folder ? request.localTarget : dirname(request.localTarget));
  // Only a run that writes probes the filesystem: a dry run lists what it would try.
  const names = dryRun ? undefined : namesOnDisk(within);
  const restoreOptions: PullRestoreOptions = {
    within,
    names,
    counters,
    hasher,
    opener,
    keys: ctx.keys,
    // Each folder on the way is checked once per pull, and again after this pull changed it.
    checkedFolders: checkedFolders(),
    clearConflict: dryRun ? () => {} : conflictClearer(ctx.state, ctx.namespace),
    onBytes: (n: number) => {
      progress.bytesDone += n;
      report();
    },
  };
  const met: MetConflict[] = [];
  // Local paths a dry run's deletions would remove, for the entries that would take their place.
  const goingAway = new Set<string>();
  const limiter = createLimiter(ctx.fileConcurrency ?? PULL_FILE_CONCURRENCY);
  let fatal: unknown;
  const finished = () => {
    progress.filesDone++;
    report();
  };
  /**
   * Runs one path's step; true when it went through. A local failure is that path's alone;
   * after any other, steps are skipped, except those that record what is on disk already.
   */
  const guarded = async (
    item: PullItem,
    step: () => Promise<void>,
    evenAfterFatal = false,
  ): Promise<boolean> => {
    if (fatal && !evenAfterFatal) return false;
    try {
      await step();
      return true;
    } catch (err) {
      if (isLocalFailure(err)) {
        summary.failures.push({ path: item.rel, error: (err as Error).message });
      } else fatal ??= err;
      return false;
    }
  };
  // Planning creates nothing, so a folder found missing stays missing until the restores; the
  // deletions, applied before the rest is planned, only take away. Each window after the first,
  // and the git objects' deletions, planned after restores, start afresh.
  let missing: MissingFolders = new Set();
  const planItem = async (item: PullItem): Promise<Plan> => {
    const planned = await planOne(ctx, request, item, trackedFor(item.rel), {
      goingAway,
      missing,
      names,
    });
    if (dryRun) note(item, planned);
    return planned;
  };
  const note = (item: PullItem, plan: Plan) => {
    if (plan.action === "delete" && plan.local) goingAway.add(plan.localPath);
    planned.push({ path: remoteDisplayPath(ctx, item.rel), action: plan.action });
  };
  const count = (item: PullItem, outcome: Outcome) => {
    if (typeof outcome === "object") met.push(outcome);
    else if (outcome === "kept_modified") {
      summary.kept_modified.push(remoteDisplayPath(ctx, item.rel));
    } else if (outcome === "unchanged") summary.unchanged++;
    else if (outcome === "deleted") summary.deleted++;
    else {
      summary.files++;
      summary.chunks_total += item.heads.heads[0].version.chunks.length;
    }
  };
  /** Opened at the first window with something to restore, if the device has a cache. */
  let cache: Promise<ChunkCache | undefined> | undefined;
  /** The last batch whose files are written, being flushed, renamed and recorded. */
  let finishing: Promise<void> = Promise.resolve();
  let batches = 0;
  /** The state db's log checkpointed behind the records of the batches before the last. */
  let logCheckpointed: Promise<void> = Promise.resolve();
  const finishLater = async (finish: () => Promise<void>) => {
    await finishing;
    if (batches++ > 0) logCheckpointed = logCheckpointed.then(() => checkpointStateLog(ctx));
    finishing = finish().catch((err) => void (fatal ??= err));
  };
  const steps: PathSteps = {
    limiter,
    largeFiles: createLimiter(LARGE_FILES_AT_ONCE),
    guarded,
    finished,
    count,
    finishLater,
  };
  /**
   * Plans a window's paths, then carries the plans out, the restores a pack run at a time and
   * made durable together (`restoreWindow`).
   */
  const applyWindow = async (window: ListedPath[]) => {
    const plans: PlannedItem[] = [];
    await Promise.all(
      window.map((listed) =>
        limiter.run(async () => {
          const item = { ...listed, heads: listed.heads ?? headsFor(listed.rel) };
          const went = await guarded(item, async () => {
            const planned = await planItem(item);
            if (!dryRun) plans.push({ item, plan: planned });
          });
          if (!went || dryRun) finished();
        })
      ),
    );
    const restores: PlannedRestore[] = [];
    const settled: { item: PullItem; plan: SettledPlan }[] = [];
    for (const { item, plan } of plans) {
      if (plan.action === "restore") restores.push({ item, plan });
      else settled.push({ item, plan });
    }
    await Promise.all(settled.map(({ item, plan }) =>
      limiter.run(() =>
        guarded(item, async () => {
          count(item, await applyPlan(ctx, item, plan, restoreOptions));
        }).finally(finished)
      )
    ));
    if (restores.length === 0) return;
    const twins = await leftOutTwins(restores, names, within);
    for (const [{ item, plan }, twin] of twins) {
      await guarded(item, () => Promise.reject(nameClash(plan.localPath, twin))).finally(finished);
    }
    cache ??= openCache(ctx);
    const going = twins.size > 0 ? restores.filter((restore) => !twins.has(restore)) : restores;
    await restoreWindow(ctx, going, { ...restoreOptions, cache: await cache }, steps);
  };
  try {
    await applyWindow(items.filter(isDeletion).filter((item) => !isGitObject(item)));
    const rest = items.filter((item) => !isDeletion(item));
    for (let at = 0; at < rest.length && !fatal; at += WINDOW_PATHS) {
      if (at > 0) {
        // Folders found missing before the last window's restores may be there now.
        missing = new Set();
        // The last window's plans, versions and pack runs are garbage: let them go once they
        // add up (a window leaves ~13 MB, and a collection marks the whole live heap).
        collectIfGrown();
      }
      await applyWindow(rest.slice(at, at + WINDOW_PATHS));
    }
  } finally {
    // Whatever stopped the windows, the last batch's records are made before the pull ends.
    await finishing;
    await logCheckpointed;
  }
  const objectDeletions = items.filter(isDeletion).filter(isGitObject);
  // Objects another machine's gc removed: only once what replaced them (its new pack) is here.
  missing = new Set();
  if (dryRun || (!fatal && summary.failures.length === 0)) await applyWindow(objectDeletions);
  else objectDeletions.forEach(finished);
  summary.chunks_downloaded = counters.chunksDownloaded;
  summary.bytes_downloaded = counters.bytesDownloaded;
  if (fatal) throw fatal;
  if (dryRun) {
    summary.planned = planned.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    return summary;
  }
  const { resolved, queued } = await applyConflictPolicy(ctx, met, "pull");
  summary.auto_resolved = resolved.map((r) => remoteDisplayPath(ctx, r.path));
  summary.conflicts = queued.map((c) => remoteDisplayPath(ctx, c.rel)).sort();
  for (const [local, rel] of gitDirs.packedRefs) {
    const packer = (await pathHeads(ctx, `${rel}/packed-refs`)).heads[0]?.version;
    if (packer?.kind !== "file" || packer.author === ctx.device.id) continue;
    const before = packedBefore.get(local)!;
    for (const note of await keepShadowedTips(ctx, local, before, packer.author_name, within)) {
      ctx.log?.("info", note);
    }
  }
  for (const gitDir of gitDirs.all.keys()) await ensureGitDirLayout(gitDir);
  if (indexes) {
    for (const problem of await refreshIndexes(indexes)) {
      ctx.log?.("warning", problem);
    }
  }
  return summary;
}

/**
 * Checkpoints the state db's log (`StateDb.checkpointLog`) while the next batch is written, so
 * that closing the db has little left to copy. A failure is only noted: the close checkpoints
 * the log again, and reports its own.
 */
async function checkpointStateLog(ctx: SyncContext): Promise<void> {
  try {
    await ctx.state.checkpointLog();
  } catch (err) {
    ctx.log?.("warning", `the state db's log could not be checkpointed: ${describeError(err)}`);
  }
}

/**
 * The restores of a window whose place another of them takes (names_on_disk.ts), each with the
 * other's entry. The folder is made for them now, as their first restore would, to be probed;
 * when it cannot be made or probed, none is left out here, and each restore fails on its own
 * with the reason.
 */
async function leftOutTwins(
  restores: PlannedRestore[],
  names: NamesOnDisk | undefined,
  within: string,
): Promise<Map<PlannedRestore, string>> {
  const left = new Map<PlannedRestore, string>();
  if (!names || restores.length < 2) return left;
  let twins: Map<string, string>;
  try {
    await ensureDurableDirectory(within);
    twins = names.twinsAmong(restores.map(({ plan }) => plan.localPath));
  } catch {
    return left;
  }
  for (const restore of restores) {
    const twin = twins.get(restore.plan.localPath);
    if (twin !== undefined) left.set(restore, twin);
  }
  return left;
}

/** The device's chunk cache; a pull goes on without it when it cannot be opened. */
async function openCache(ctx: SyncContext): Promise<ChunkCache | undefined> {
  try {
    return await ctx.chunkCache?.();
  } catch (err) {
    ctx.log?.("warning", `the chunk cache is not used: ${describeError(err)}`);
    return undefined;
  }
}

/** A path inside a git directory's object store. */
function isGitObject(item: ListedPath): boolean {
  return gitDirPath(item.rel)?.kind === "object";
}

/**
 * The git directories the pull's items lie in, by local path (absolute) with their paths in the
 * namespace: those at or below its target, or anywhere in the sync root when it pulls into it
 * (a copy pulled elsewhere is no checkout). `packedRefs` holds those whose packed-refs it brings.
 */
function touchedGitDirs(
  request: PullRequest,
  items: ListedPath[],
  inRoot: boolean,
): { all: Map<string, string>; packedRefs: Map<string, string> } {
  const all = new Map<string, string>();
  const packedRefs = new Map<string, string>();
  for (const item of items) {
    const at = gitDirPath(item.rel);
    if (!at) continue;
    const inside = relative(`/${request.remoteRel}`, `/${at.gitDir}`);
    if (leadsOutside(inside) && !inRoot) continue;
    const local = join(request.localTarget, inside);
    all.set(local, at.gitDir);
    if (at.inside === "packed-refs") packedRefs.set(local, at.gitDir);
  }
  return { all, packedRefs };
}

/** A path with what to do with it. */
interface PlannedItem {
  item: PullItem;
  plan: Plan;
}

/** A path whose remote version replaces what is here. */
interface PlannedRestore extends PlannedItem {
  plan: RestorePlan;
}

/** A restore whose file is written beside its place (`stageVersion`). */
interface StagedRestore extends PlannedRestore {
  staged: StagedVersion;
}

/** By the pack and offset of the first chunk restored, so that neighbours are restored together. */
function inPackOrder(a: PlannedRestore, b: PlannedRestore): number {
  const [first, second] = [a.plan.head.version.chunks[0], b.plan.head.version.chunks[0]];
  const [packA, packB] = [first?.pack ?? "", second?.pack ?? ""];
  if (packA !== packB) return packA < packB ? -1 : 1;
  return (first?.offset ?? 0) - (second?.offset ?? 0);
}

/** A path whose only head deletes it: these go before the rest. */
function isDeletion(item: ListedPath): item is PullItem {
  return item.heads !== undefined && deletes(item.heads);
}

/** Whether the only head of a path deletes it. */
function deletes({ heads }: PathHeads): boolean {
  return heads.length === 1 && heads[0].version.kind === "deleted";
}

/** The bytes restoring a path's head would write, when it has one head, a file. */
function restoredBytes({ heads }: PathHeads): number {
  const head = heads[0]?.version;
  return heads.length === 1 && head.kind === "file" ? head.size : 0;
}

/**
 * The folder a single remote path goes into, as `cp` puts a file into a folder it is given:
 * the pull's target when it is a folder (or a link to one, followed). Not where this device
 * keeps that very path as a folder (its place in the sync root, or where it synced files
 * below the path): a folder standing in for a remote file there is a type change.
 * `undefined` when the path is to be restored at the target itself.
 */
async function folderToPullInto(
  ctx: SyncContext,
  request: PullRequest,
): Promise<string | undefined> {
  const target = request.localTarget;
  const root = request.syncRoot;
  if (root !== undefined && target === join(root, request.remoteRel)) return undefined;
  for (const t of ctx.state.trackedStats(trackedNamespace(ctx), request.remoteRel)) {
    if (t.path !== request.remoteRel && t.localPath.startsWith(`${target}/`)) return undefined;
  }
  const own = lstatIfPresent(target);
  // A dangling link is no folder: it is replaced, as any file.
  if (!own || !(await namedPathInfo(target, own)).isDirectory) return undefined;
  return own.isSymlink ? Deno.realPathSync(target) : target;
}

/**
 * The paths to look into, whether the pull is of a folder (the namespace or a prefix) rather
 * than of one path, the lookups of their heads and tracked rows and the bytes their restores
 * would write. A path synced where the pull puts it, whose one head is the version synced, is
 * only counted (`onUnchanged`): a no-op pull of a large tree parses no version and holds nothing
 * per path. The others' heads and rows are read a block of paths at a time (`read_ahead.ts`),
 * as the windows take them; their bytes are totalled without parsing their versions.
 */
async function planItems(
  ctx: SyncContext,
  request: PullRequest,
  summary: PullSummary,
  onUnchanged: (rel: string) => void,
): Promise<{
  items: ListedPath[];
  folder: boolean;
  /** The folder a single path is pulled into (see {@linkcode folderToPullInto}). */
  into?: string;
  headsFor: HeadsLookup;
  trackedFor: (rel: string) => TrackedEntry | undefined;
  bytesTotal: number;
}> {
  const headsFor = (path: string) => ({ path, heads: [], kept: [] });
  const ns = trackedNamespace(ctx);
  const trackedOf = (items: ListedPath[]) =>
    readAhead(items.map((item) => item.rel), (rels) => ctx.state.getTrackedAmong(ns, rels));
  const none = { items: [], folder: false, headsFor, trackedFor: trackedOf([]), bytesTotal: 0 };
  if (isMachineGitPath(request.remoteRel)) return none;
  if (request.remoteRel !== "") {
    const single = await pathHeads(ctx, request.remoteRel);
    if (single.heads.length > 0) {
      const into = await folderToPullInto(ctx, request);
      const local = { path: into ? join(into, basename(request.remoteRel)) : request.localTarget };
      const items = [{ rel: request.remoteRel, heads: single, local }];
      return {
        ...none,
        items,
        into,
        trackedFor: trackedOf(items),
        bytesTotal: restoredBytes(single),
      };
    }
  }
  const prefix = request.remoteRel;
  const { folded, headsFor: foldedHeads, headsAmong, soleHeadsAmong, unreadable } =
    await foldedPaths(ctx, prefix);
  for (const err of unreadable) {
    summary.failures.push({ path: "(unreadable version)", error: err.message });
  }
  const items: ListedPath[] = [];
  let bytesTotal = 0;
  let listed = 0;
  // Items whose one head (if one) is still to be weighed: its size counted, a deletion's read.
  let unweighed: ListedPath[] = [];
  const weigh = () => {
    const sole = soleHeadsAmong(unweighed.map((item) => item.rel));
    for (const item of unweighed) {
      const head = sole.get(item.rel);
      if (head?.kind === "file") bytesTotal += head.size;
      if (head?.kind !== "deleted") continue;
      const heads = foldedHeads(item.rel);
      if (deletes(heads)) item.heads = heads;
    }
    unweighed = [];
  };
  const merged = mergeByPath({
    tracked: {
      items: ctx.state.trackedStats(trackedNamespace(ctx), prefix),
      path: (t: TrackedStat) => t.path,
    },
    folded: { items: folded, path: (f: FoldedEntry) => f.path },
  });
  // Where the pull puts a path, as join() would say for a normalized target, without its
  // cost per path; a target it would write otherwise only sends its paths the long way.
  const below = request.localTarget.endsWith("/") ? request.localTarget : `${request.localTarget}/`;
  for await (const { path, tracked, folded } of merged) {
    // A machine's own git files are never pulled, whatever an older tcfs pushed of them.
    if (!folded || path === prefix || isMachineGitPath(path)) continue;
    listed++;
    const inside = prefix === "" ? path : path.slice(prefix.length + 1);
    if (
      tracked !== undefined && tracked.baseKey === folded.soleHead &&
      tracked.localPath === below + inside
    ) {
      onUnchanged(path);
    } else {
      const item = { rel: path, local: { inside } };
      items.push(item);
      unweighed.push(item);
      if (unweighed.length >= READ_AHEAD_PATHS) weigh();
    }
  }
  weigh();
  if (listed === 0 && unreadable.length === 0) {
    throw new TcfsError(`nothing at ${remoteDisplayPath(ctx, prefix)}`, {
      kind: "not_found",
      hint: "check the path with `tcfs ls`",
    });
  }
  const aheadHeads = readAhead(
    items.filter((item) => !item.heads).map((item) => item.rel),
    headsAmong,
  );
  return {
    items,
    folder: true,
    headsFor: (rel) => aheadHeads(rel) ?? foldedHeads(rel),
    trackedFor: trackedOf(items),
    bytesTotal,
  };
}

/** What to do with one path, decided without writing anything. */
type Plan = SettledPlan | RestorePlan;

/** A plan that transfers nothing. */
type SettledPlan =
  | {
    action: "unchanged";
    adopt?: { local: LocalEntry; head: StoredVersion; recorded?: TrackedEntry };
  }
  | { action: "conflict"; conflict: MetConflict }
  | { action: "kept_modified" }
  | { action: "delete"; localPath: string; local?: LocalEntry; head: StoredVersion };

/** A plan to write the remote version at `localPath`. */
interface RestorePlan {
  action: "restore";
  localPath: string;
  local?: LocalEntry;
  /** Nothing stood at the path (no file, link, folder, nor a pipe or socket tcfs leaves alone). */
  vacant: boolean;
  /** A folder stands at the path, with nothing in it that must stay. */
  replacesFolder: boolean;
  /** Files in that folder that this pull did not list but the remote deleted too. */
  clears: SyncedDeletion[];
  head: StoredVersion;
  /** The path's tracked row when it was planned: nothing but this restore writes it meanwhile. */
  recorded?: TrackedEntry;
}

/** A synced, unmodified local file whose only remote head deletes it. */
interface SyncedDeletion {
  rel: string;
  local: LocalEntry;
  head: StoredVersion;
}

/** What happened to one path; a conflict comes back for the conflict policy. */
type Outcome = "restored" | "deleted" | "unchanged" | "kept_modified" | MetConflict;

/** What planning a path needs to know of the pull's other paths and of the disk. */
interface PlanContext {
  /** Local paths a dry run's deletions would remove. */
  goingAway: ReadonlySet<string>;
  missing: MissingFolders;
  /** Absent for a dry run. */
  names?: NamesOnDisk;
}

/** Plans one path, given what this device recorded of it (`recorded`). */
async function planOne(
  ctx: SyncContext,
  request: PullRequest,
  item: PullItem,
  recorded: TrackedEntry | undefined,
  { goingAway, missing, names }: PlanContext,
): Promise<Plan> {
  const { heads } = item.heads;
  const head = heads[0];
  const unseenFrom = (tracked?: TrackedEntry) =>
    heads.filter((h) => !tracked || !dominates(tracked.baseVclock, h.version.vclock));
  // Synced where this pull puts it, with nothing new: a no-op pull of a large tree makes no
  // filesystem call per path. Confinement could only refuse the place (nothing to write anyway).
  const unconfined = "path" in item.local
    ? item.local.path
    : join(request.localTarget, item.local.inside);
  if (recorded?.localPath === unconfined && unseenFrom(recorded).length === 0) {
    return { action: "unchanged" };
  }
  const place = localPlace(request, item, head.key, goingAway, missing);
  const localPath = place.path;
  if (ctx.links === "skip" && isLinkSide(heads, place)) return { action: "unchanged" };
  // What this device synced counts only at the place it synced it to.
  const unseen = unseenFrom(recorded?.localPath === localPath ? recorded : undefined);
  if (unseen.length === 0) return { action: "unchanged" };
  // Another path's entry found under this path's name is none of this path's business.
  const other = place.absent || place.parentMissing ? undefined : names?.otherEntry(localPath);
  if (other !== undefined) {
    if (heads.every((h) => h.version.kind === "deleted")) return { action: "unchanged" };
    throw nameClash(localPath, other);
  }
  const conflict = {
    rel: item.rel,
    localPath,
    remoteAuthors: unseen.map((h) => h.version.author_name),
  };
  if (heads.length !== 1) return { action: "conflict", conflict };
  // One lstat tells both what is there and whether it is a folder.
  const statAtMs = Date.now();
  const info = place.absent || place.parentMissing ? undefined : lstatIfPresent(localPath);
  const local = info && await entryFromInfo(info, localPath, item.rel, statAtMs);
  if (local && await modifiedSince(recorded, local, ctx.keys)) {
    if (await sameContent(local, head.version, ctx.keys)) {
      return { action: "unchanged", adopt: { local, head, recorded } };
    }
    // Deleted there, modified here: the modification wins and is pushed next time.
    // A git ref deleted there was packed there (`git gc`): its value is weighed against the
    // packed one (git_conflict.ts).
    return head.version.kind === "deleted" && gitDirPath(item.rel)?.kind !== "ref"
      ? { action: "kept_modified" }
      : { action: "conflict", conflict };
  }
  if (head.version.kind === "deleted") return { action: "delete", localPath, local, head };
  const replacesFolder = !local && (info?.isDirectory ?? false);
  const clears: SyncedDeletion[] = [];
  if (replacesFolder) {
    // A pull of this one path (as the daemon's, on an event) lists no deletions below it.
    await assertFolderCanGo(localPath, async (file) => {
      if (goingAway.has(file)) return true;
      const deletion = await syncedDeletion(ctx, `${item.rel}/${relative(localPath, file)}`, file);
      if (deletion) clears.push(deletion);
      return deletion !== undefined;
    });
  }
  const vacant = info === undefined;
  return { action: "restore", localPath, local, vacant, replacesFolder, clears, head, recorded };
}

/** The remote's deletion of `rel`, when the file at `localPath` is exactly what this device synced. */
async function syncedDeletion(
  ctx: SyncContext,
  rel: string,
  localPath: string,
): Promise<SyncedDeletion | undefined> {
  const local = await statEntry(localPath, rel);
  if (!local || await modifiedHere(ctx, local)) return undefined;
  const { heads } = await pathHeads(ctx, rel);
  const head = heads.length === 1 ? heads[0] : undefined;
  return head?.version.kind === "deleted" ? { rel, local, head } : undefined;
}

/**
 * Where the item lives on disk. `absent`: a file or symlink on the way means nothing can be
 * there, which is no obstacle to a deletion, nor to a dry run whose deletions would remove
 * it (a real run has removed it by the time the rest is planned).
 */
function localPlace(
  request: PullRequest,
  item: PullItem,
  origin: string,
  goingAway: ReadonlySet<string>,
  missing: MissingFolders,
): { path: string; absent: boolean; parentMissing?: boolean } {
  if ("path" in item.local) return { path: item.local.path, absent: false };
  try {
    const place = confinedPlace(request.localTarget, item.local.inside, origin, missing);
    return { ...place, absent: false };
  } catch (err) {
    const blocked = err instanceof TcfsError &&
      (err.kind === "path_blocked" || err.kind === "unsafe_path");
    const parents = item.local.inside.split("/").slice(0, -1)
      .map((_, i, segments) => join(request.localTarget, ...segments.slice(0, i + 1)));
    if (blocked && (isDeletion(item) || parents.some((parent) => goingAway.has(parent)))) {
      return { path: join(request.localTarget, item.local.inside), absent: true };
    }
    throw err;
  }
}

/** A link on either side: with `[sync] links = "skip"` the path is left as it is. */
function isLinkSide(
  heads: StoredVersion[],
  place: { path: string; absent: boolean },
): boolean {
  if (heads.some((h) => h.version.kind === "symlink")) return true;
  if (place.absent) return false;
  try {
    return lstatIfPresent(place.path)?.isSymlink ?? false;
  } catch {
    return false;
  }
}

/** Carries out a plan that transfers nothing. */
async function applyPlan(
  ctx: SyncContext,
  item: PullItem,
  plan: SettledPlan,
  { within, clearConflict }: PullRestoreOptions,
): Promise<Outcome> {
  if (plan.action === "unchanged") {
    if (plan.adopt && !trackedElsewhere(plan.adopt.recorded, plan.adopt.local.localPath)) {
      adopt(ctx, plan.adopt.local, plan.adopt.head);
      clearConflict(item.rel);
    }
    return "unchanged";
  }
  if (plan.action === "conflict") return plan.conflict;
  if (plan.action === "kept_modified") return "kept_modified";
  const { localPath, local, head } = plan;
  // An edit saved since `local` was checked wins, as it would have a moment earlier.
  if (local && !await removeDurably(local, within)) return "kept_modified";
  adoptDeletion(ctx, item.rel, localPath, head);
  return "deleted";
}

/** How the pull runs a step of one path: at most so many at once, a failure that path's alone. */
interface PathSteps {
  limiter: Limiter;
  /** What a large file ({@linkcode isLargeFile}) waits for before a slot of `limiter`. */
  largeFiles: Limiter;
  /**
   * Runs one path's step; true when it went through. After a failure that is not the path's
   * alone, later steps are skipped unless `evenAfterFatal`.
   */
  guarded(item: PullItem, step: () => Promise<void>, evenAfterFatal?: boolean): Promise<boolean>;
  /** One path is done with, whatever became of it. */
  finished(): void;
  /** Adds what became of a path to the summary. */
  count(item: PullItem, outcome: Outcome): void;
  /**
   * Runs `finish` (a batch's flushes, renames and records) once the batch before it has
   * finished, and returns without waiting for it: the next batch is fetched and written
   * meanwhile, while the disk takes this one.
   */
  finishLater(finish: () => Promise<void>): Promise<void>;
}

/**
 * Restores a window's files, a pack run at a time, in batches of up to {@linkcode BATCH_BYTES}
 * ({@linkcode restoreTogether}).
 */
async function restoreWindow(
  ctx: SyncContext,
  restores: PlannedRestore[],
  options: PullRestoreOptions,
  steps: PathSteps,
): Promise<void> {
  const cache = options.cache;
  // Chunks the cache holds are read from it: the runs are planned for the rest alone.
  const fetched = new Map(restores.map(({ plan }) => {
    const refs = plan.head.version.chunks;
    return [plan, cache ? refs.filter((ref) => !cache.has(ref.id)) : refs];
  }));
  // Runs are planned per batch: planned for the window, a run that also held a later batch's
  // slices stayed in memory until that batch read them, and the two files of a 1 GiB pull
  // (one batch each, their chunks side by side in the packs) kept the prefetch's 64 MiB full
  // through the first file (docs/BENCHMARKS.md).
  const claims = (batch: PlannedRestore[]) => {
    const planned = batch.map(({ plan }) => ({
      refs: fetched.get(plan)!,
      // Only an opener needs the key, and with it the keys are there to give it.
      idKey: options.opener && chunkIdKey(plan.head.version.format, ctx.keys),
    }));
    const prefetch = createPackRunPrefetch(ctx.store, planned, { opener: options.opener });
    return (restore: PlannedRestore) => prefetch.claim(fetched.get(restore.plan)!);
  };
  let batch: PlannedRestore[] = [];
  let bytes = 0;
  for (const restore of restores.sort(inPackOrder)) {
    const size = restore.plan.head.version.size;
    if (batch.length > 0 && bytes + size > BATCH_BYTES) {
      await restoreTogether(ctx, batch, options, claims(batch), steps);
      [batch, bytes] = [[], 0];
    }
    batch.push(restore);
    bytes += size;
  }
  await restoreTogether(ctx, batch, options, claims(batch), steps);
}

/**
 * The bytes of a batch of restores: the new copies wait beside the files they replace until
 * the batch is renamed, so twice this (a batch being renamed as the next is written) bounds
 * the disk space a pull takes beyond the files' own.
 */
const BATCH_BYTES = 256 * 1024 * 1024;

/**
 * Restores files together. Each is written beside its place; then the lot is made durable,
 * each is renamed into place unless it was edited meanwhile, the renames are made durable,
 * and only then is each recorded, so that the state row never runs ahead of the disk. Two
 * flushes for the batch, where restores made one by one need two each. Returns once the
 * files are written: the rest goes on while the next batch is written (`finishLater`).
 */
async function restoreTogether(
  ctx: SyncContext,
  restores: PlannedRestore[],
  options: PullRestoreOptions,
  claim: (restore: PlannedRestore) => ClaimedStore,
  steps: PathSteps,
): Promise<void> {
  const { limiter, guarded, finished } = steps;
  const batch = restoreBatch();
  const written: StagedRestore[] = [];
  try {
    await Promise.all(
      restores.map((restore) => {
        const stage = () =>
          limiter.run(async () => {
            const went = await guarded(restore.item, async () => {
              using store = claim(restore);
              written.push({
                ...restore,
                staged: await stageRestore(ctx, restore, options, store, batch),
              });
            });
            if (!went) finished();
          });
        // A large file waits for its turn before it takes a slot, so that the small files
        // behind it are not held up by its waiting.
        return isLargeFile(restore.plan.head.version.size) ? steps.largeFiles.run(stage) : stage();
      }),
    );
  } catch (err) {
    // Only a progress report can throw here; the batch's handle must not stay open.
    batch[Symbol.dispose]();
    throw err;
  }
  await steps.finishLater(() => finishTogether(ctx, batch, written, options, steps));
}

/** The rest of {@linkcode restoreTogether} once the batch's files are written; ends `batch`. */
async function finishTogether(
  ctx: SyncContext,
  batch: RestoreBatch,
  written: StagedRestore[],
  options: PullRestoreOptions,
  { guarded, finished, count }: Omit<PathSteps, "finishLater" | "limiter">,
): Promise<void> {
  using _ended = batch;
  /** Awaited by each path, so that a failed flush fails each; never left unhandled. */
  const settled = (flush: Promise<void>) => (flush.catch(() => {}), flush);
  const filesDurable = written.length > 0 ? settled(batch.filesDurable()) : undefined;
  const placed: StagedRestore[] = [];
  // Renames and records take no slot of the limiter: they would wait there behind the next
  // batch's downloads. No rename after a failure that stopped the pull: it ends as soon as it
  // can, and a write error reported to another batch's flush fails this batch's too
  // (restore_durability.ts). A file in place is recorded even then: the next sync would
  // otherwise have to tell by its content that it is the version pulled.
  await Promise.all(written.map(async (restore) => {
    const went = await guarded(restore.item, async () => {
      await filesDurable;
      await replaceWithStaged(restore.staged, placing(restore, options), batch);
    });
    if (went) return void placed.push(restore);
    await discardStaged(restore.staged);
    finished();
  }));
  const entriesDurable = placed.length > 0 ? settled(batch.entriesDurable()) : undefined;
  await Promise.all(placed.map((restore) =>
    guarded(restore.item, async () => {
      await entriesDurable;
      crashPoint("before-state-commit");
      count(restore.item, recordRestore(ctx, restore, options));
    }, true).finally(finished)
  ));
  // The batch's handle closes when it ends: not while a flush no path awaited still runs.
  await Promise.allSettled([filesDurable, entriesDurable]);
}

/** Clears the folder a restore replaces, then writes the file beside its place. */
async function stageRestore(
  ctx: SyncContext,
  { plan }: PlannedRestore,
  options: RestoreOptions,
  store: ClaimedStore,
  batch: RestoreBatch,
): Promise<StagedVersion> {
  for (const clear of plan.clears) {
    // One edited since the plan keeps its folder: the rename then fails on this path.
    if (await removeDurably(clear.local, options.within)) {
      adoptDeletion(ctx, clear.rel, clear.local.localPath, clear.head);
    }
  }
  // Chunks opened ahead with their run are checked as they come (pack_run_prefetch.ts).
  const reading = { ...options, opened: store.opened };
  return await stageVersion(store, plan.head.version, plan.localPath, reading, batch);
}

/** How a pull restores: as any restore, and where the filesystem may take two names for one. */
interface PullRestoreOptions extends RestoreOptions {
  /** Absent for a dry run, which writes nothing. */
  names?: NamesOnDisk;
  /** Takes a path this pull brought in line off the conflict queue (`conflictClearer`). */
  clearConflict: (rel: string) => void;
}

/**
 * The rename's last check: no other path of the pull took the place, and the local entry is
 * still the one planned over (an edit wins).
 */
function placing({ item, plan }: PlannedRestore, options: PullRestoreOptions): ReplaceOptions {
  const { localPath, local, vacant, replacesFolder } = plan;
  const changed = () =>
    new TcfsError(`${localPath} changed during the pull; kept the local edit`, {
      kind: "local_changed",
      hint: "run `tcfs sync-status` and resolve the conflict",
    });
  return {
    within: options.within,
    checkedFolders: options.checkedFolders,
    ...(vacant ? { ifAbsent: changed } : {}),
    beforeReplace: async () => {
      // Another path of this pull may have put its entry there meanwhile.
      const other = options.names?.otherEntry(localPath);
      if (other !== undefined) throw nameClash(localPath, other);
      // Placed only if nothing is there still (`ifAbsent`).
      if (vacant) return;
      const now = await statEntry(localPath, item.rel);
      if (now ? !local || !sameEntryStat(now, local) : local !== undefined) throw changed();
      if (replacesFolder) await removeEmptyFolder(localPath);
    },
  };
}

/** Records a restore whose rename is durable. */
function recordRestore(
  ctx: SyncContext,
  { item, plan, staged }: StagedRestore,
  { clearConflict }: PullRestoreOptions,
): Outcome {
  const { localPath, head } = plan;
  const restored = writtenEntry(staged, item.rel, head.version);
  if (!trackedElsewhere(plan.recorded, localPath)) {
    adopt(ctx, restored, head);
    clearConflict(item.rel);
  }
  saveChunkPrints(ctx.state, trackedNamespace(ctx), item.rel, head.key, staged.prints);
  rememberChunkLocations(ctx.state, ctx.store.location, head.version.chunks);
  return "restored";
}

/**
 * Whether this device syncs a path (`recorded`: its tracked row) at another place than
 * `localPath`. A pull there is a copy (to look at, to hand on) and leaves the record where it
 * is: moving it would take the synced place's base away, so its next push would meet its own
 * version as a conflict, and would let a stale copy at the synced place push over newer
 * versions.
 */
function trackedElsewhere(recorded: TrackedEntry | undefined, localPath: string): boolean {
  return recorded !== undefined && recorded.kind !== "deleted" &&
    recorded.localPath !== localPath;
}

/** Modified = differs from what this device last synced at that path. */
function modifiedHere(ctx: SyncContext, local: LocalEntry): Promise<boolean> {
  return modifiedSince(ctx.state.getTracked(trackedNamespace(ctx), local.rel), local, ctx.keys);
}
