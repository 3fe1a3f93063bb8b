/**
 * Push: the local side of a path wins only where it has seen every remote
 * version; anything else is a conflict and stays untouched on both sides.
 * Stages: scan → detect changes → read heads → stage content (chunks into packs)
 * → wait until its packs are durable → write version.
 *
 * @module
 */

import { join } from "node:path";
import { TcfsError } from "../errors.ts";
import { dominates } from "../vclock/vector_clock.ts";
import type { LinkMode } from "../config/config_schema.ts";
import { isUnlinked, type TrackedEntry, type TrackedStat } from "../state/state_db.ts";
import { adopt, trackedFrom } from "./tracked_record.ts";
import { createExcludeMatcher } from "./exclude_matcher.ts";
import { gitDirPath } from "../git/git_dir_path.ts";
import { linkedWorktreeOf, linkedWorktreeWarning } from "../git/linked_worktree.ts";
import { isMissingPath } from "../io/lstat_if_present.ts";
import {
  isUnreadableLink,
  type LocalEntry,
  namedPathInfo,
  scanFolder,
  statEntry,
  UNREADABLE_LINK,
} from "./local_scanner.ts";
import { contextPackWriter, isLargeFile } from "./pack_writer.ts";
import { createLimiter } from "../concurrency/limiter.ts";
import { createChunkHasher } from "../hashing/chunk_hasher.ts";
import {
  headsLookup,
  remoteDisplayPath,
  storeWasReplaced,
  type SyncContext,
  trackedNamespace,
  type TransferProgress,
} from "./sync_context.ts";
import { emptyPushSummary, type PushAction, type PushSummary } from "./transfer_summary.ts";
import {
  assertNoMassDelete,
  DEFAULT_MASS_DELETE_LIMITS,
  type MassDeleteLimits,
} from "./deletion_guard.ts";
import { isInSyncRoot, prepareSyncRoot } from "./root_marker.ts";
import { vanishedSorter } from "./vanished_paths.ts";
import { mergeByPath } from "../paths/path_merge.ts";
import { assertPushablePath, joinRel } from "../paths/remote_path.ts";
import { openVersionBatch, VersionRaceError } from "../journal/version_batch.ts";
import { SEGMENT_MAX_VERSIONS } from "../journal/journal_codec.ts";
import { writeCheckpointIfDue } from "../journal/journal_checkpoint.ts";
import { applyConflictPolicy, type MetConflict } from "../conflicts/conflict_policy.ts";
import { clearConflict } from "../conflicts/conflict_queue.ts";
import { localContent } from "./local_content.ts";
import type { SharedLookahead } from "./file_saver.ts";
import { loadChunkPrints, saveChunkPrints } from "../state/chunk_prints.ts";
import { rememberChunkLocations } from "../state/chunk_locations.ts";
import { condemnedObjects } from "../gc/condemned_packs.ts";
import { storedChunkReuse } from "./stored_chunk_reuse.ts";
import { isLocalFailure, racyButUnchanged, sameContent, unchangedByStat } from "./local_change.ts";
import { crashPoint } from "../runtime/crash_point.ts";
import type { PathHeads } from "../journal/stored_version.ts";
import { writtenFormat } from "../remote/chunk_id_key.ts";
import { isTempFile, removeStaleTemps } from "./temp_sweeper.ts";
import { collectFully } from "../runtime/full_collection.ts";

/**
 * Files staged between two full collections of garbage: at 100,000 small files, 24 collections
 * of about 70 MB live took the peak from 490–520 to 320–325 MB for about 5 % more CPU.
 */
const COLLECT_EVERY_FILES = 4_096;

/**
 * Changed files a push holds from its scan at most. The scan is whole before anything is
 * written (the mass deletion guard counts its deletions first), but the files past these are
 * found again by a second walk that starts after the last one held: a first push of 100,000
 * files held every one of them, some 25 MB, for most of its length.
 */
export const HELD_CHANGES = 4_096;

/** What to push and where. */
export interface PushRequest {
  /** A local file, symlink or folder. */
  localPath: string;
  /** The remote path it maps to, relative to the namespace ("" = the namespace root). */
  remoteRel: string;
  excludes: readonly string[];
  onProgress?: (progress: TransferProgress) => void;
  /** The configured sync root: a push at or below it needs its marker (root_marker.ts). */
  syncRoot?: string;
  /** When deletions make a mass deletion (deletion_guard.ts); the defaults when unset. */
  massDelete?: MassDeleteLimits;
  /** Push a mass deletion all the same. */
  allowMassDelete?: boolean;
  /** Work out what would happen and write nothing: the summary's `planned` says it. */
  dryRun?: boolean;
  /** Changed files held from the scan at most: {@linkcode HELD_CHANGES} by default. */
  heldChanges?: number;
  /**
   * `localPath` is what a user named: when it is a symlink to a folder, push what is in the
   * folder, as `cp -rH` and `rsync` do (a pull writes into it so). Links below it, and a path
   * the daemon's watcher pushes, are data, recreated as they are.
   */
  followLink?: boolean;
}

/** A path to push: what the scan found there (nothing for a deletion), and its tracked row. */
type PushJob = [string, LocalEntry | undefined, TrackedEntry | undefined];

/**
 * Pushes a file or a tree. Chunks are durable before any version names them.
 *
 * @example
 * ```ts
 * const summary = await push(ctx, { localPath: "/home/me/docs", remoteRel: "docs", excludes: [] });
 * ```
 */
export async function push(ctx: SyncContext, request: PushRequest): Promise<PushSummary> {
  const dryRun = request.dryRun ?? false;
  const root = request.syncRoot;
  if (root !== undefined && isInSyncRoot(request.localPath, root)) {
    // As the daemon does: a new root gets its marker, an emptied one is refused.
    await prepareSyncRoot(root, () => ctx.state.syncedPathsFrom(root), { write: !dryRun });
  }
  const summary = emptyPushSummary();
  const plan = (rel: string, action: PushAction) =>
    summary.planned?.push({ path: remoteDisplayPath(ctx, rel), action });
  if (dryRun) summary.planned = [];
  else {
    // Checking the store's identity may write it (a new store) or reset state (a replaced
    // one).
    summary.store_replaced = await storeWasReplaced(ctx);
  }
  const ns = trackedNamespace(ctx);
  /**
   * Whether `local` is as it was synced (`tracked`): by its stat, or by its digest when the
   * row's stat was racy. A racy row found unchanged by a stat that is no longer racy is
   * recorded so, and the next push trusts its stat again.
   */
  const unchangedSince = async (tracked: TrackedStat, local: LocalEntry) => {
    if (unchangedByStat(tracked, local)) return true;
    if (!await racyButUnchanged(tracked, local, ctx.keys)) return false;
    if (!dryRun && !local.racy) {
      ctx.state.putTracked({ ...ctx.state.getTracked(ns, tracked.path)!, racy: false });
    }
    return true;
  };
  // One pass over the scan and the tracked rows, both in path order: a no-op push of a big
  // tree holds neither whole, and reads no row's clock.
  const vanished = vanishedSorter(ctx, request);
  // What a killed pull left: the scan passes it, and it goes once the scan is done.
  const temps: string[] = [];
  // The first changed paths, each with its tracked row when it was synced at the same place
  // (its base); those past them are only counted.
  const firstJobs: (PushJob | undefined)[] = [];
  const heldMax = request.heldChanges ?? HELD_CHANGES;
  let changedFiles = 0;
  let changedBytes = 0;
  for await (
    const [local, at] of changedPaths(ctx, request, unchangedSince, {
      onTemp: (temp) => temps.push(temp),
      onUnreadable: (rel, why) => {
        vanished.unreadable(rel);
        summary.failures.push({ path: rel, error: why });
      },
      vanished,
    })
  ) {
    if (!at.changed) {
      summary.unchanged++;
      plan(local.rel, "unchanged");
      continue;
    }
    changedFiles++;
    changedBytes += local.size;
    if (firstJobs.length < heldMax) firstJobs.push([local.rel, local, at.base()]);
    // Said when the pointer goes up (new or changed), not on every scan.
    const worktree = local.kind === "file" && await linkedWorktreeOf(local.localPath);
    if (worktree) ctx.log?.("warning", linkedWorktreeWarning(local.rel, worktree));
  }
  const resumeAfter = changedFiles > firstJobs.length ? firstJobs.at(-1)![0] : undefined;
  if (!dryRun) await removeStaleTemps(temps, { log: ctx.log });
  const deletions = vanished.found.deleted;
  assertNoMassDelete(
    request.localPath,
    { deletions: deletions.length, tracked: vanished.found.synced },
    request.massDelete ?? DEFAULT_MASS_DELETE_LIMITS,
    request.allowMassDelete,
  );
  for (const t of vanished.found.excluded) {
    plan(t.path, "untrack_excluded");
    if (!dryRun) ctx.state.deleteTracked(ns, t.path);
    summary.untracked++;
  }
  // Nothing to write, nothing to read: a daemon's idle scan costs the store no request.
  const nothingToDo = changedFiles === 0 && deletions.length === 0;
  const headsFor = nothingToDo ? undefined : await headsLookup(ctx);
  // Chunks in packs gc has condemned are uploaded again, not named.
  if (!nothingToDo && !dryRun) await condemnedObjects(ctx.store);
  const packs = contextPackWriter(ctx);
  const batch = openVersionBatch(ctx);
  using hasher = createChunkHasher();
  const lookahead: SharedLookahead = { bytes: 0 };
  const progress: TransferProgress = {
    filesDone: 0,
    filesTotal: changedFiles + deletions.length,
    bytesDone: 0,
    bytesTotal: changedBytes,
  };
  summary.bytes_total = progress.bytesTotal;
  const report = () => request.onProgress?.(progress);

  /**
   * Checks the path against the remote heads and stages its content. Returns
   * when the content is durable and the step that then writes the version, or
   * nothing when the path is a conflict or was adopted as it is.
   */
  const stageOne = async (
    rel: string,
    entry: LocalEntry | undefined,
    tracked: TrackedEntry | undefined,
  ) => {
    assertPushablePath(rel);
    const base = tracked?.baseVclock ?? {};
    const seen = headsFor!(rel);
    const unseen = seen.heads.filter((h) => !dominates(base, h.version.vclock));
    const unseenLive = unseen.filter((h) => h.version.kind !== "deleted");
    // A git ref another device deleted meanwhile (its `git gc` packed it) is no file to bring
    // back over the deletion: the pull weighs this value against the packed one (git_conflict.ts).
    if (entry && unseenLive.length === 0 && unseen.length > 0 && gitDirPath(rel)?.kind === "ref") {
      if (dryRun) {
        plan(rel, "conflict");
        summary.conflicts.push(remoteDisplayPath(ctx, rel));
      } else {
        met.push({
          rel,
          localPath: entry.localPath,
          remoteAuthors: unseen.map((h) => h.version.author_name),
        });
      }
      return undefined;
    }
    if (unseenLive.length > 0) {
      if (
        entry && seen.heads.length === 1 &&
        await sameContent(entry, unseenLive[0].version, ctx.keys)
      ) {
        plan(rel, "unchanged");
        if (!dryRun) {
          adopt(ctx, entry, unseenLive[0]);
          clearConflict(ctx.state, ctx.namespace, rel);
        }
      } else if (entry && tracked && isUnlinked(tracked) && await unchangedSince(tracked, entry)) {
        // Unlinked when its store was replaced, and unchanged since: the new store's
        // version is for the next pull to take, not a conflict.
        summary.unchanged++;
        plan(rel, "unchanged");
      } else if (dryRun) {
        plan(rel, "conflict");
        summary.conflicts.push(remoteDisplayPath(ctx, rel));
      } else {
        met.push({
          rel,
          localPath: entry?.localPath ?? tracked!.localPath,
          remoteAuthors: unseenLive.map((h) => h.version.author_name),
        });
      }
      return undefined;
    }
    if (dryRun) {
      plan(rel, entry ? "upload" : "delete");
      return undefined;
    }
    if (entry && unseen.length > 0) summary.resurrected.push(remoteDisplayPath(ctx, rel));
    // Versions in the store name only durable chunks; their packs are checked before reuse.
    // Lookups are by id, and a keyed id never equals a plain one: a sealed namespace's push
    // finds only its own kind of chunk here (and among the chunk locations).
    const known = new Map(
      [...seen.heads, ...seen.kept].flatMap((v) => v.version.chunks.map((c) => [c.id, c])),
    );
    const previous = tracked && lendsPrints(ctx, tracked, seen)
      ? loadChunkPrints(ctx.state, ns, rel, tracked.baseKey)
      : undefined;
    const { content, durable, prints } = await localContent(entry, packs, {
      onBytes: (n) => {
        progress.bytesDone += n;
        report();
      },
      reuse: entry && await storedChunkReuse(ctx.state, ctx.store, { previous, known }),
      hasher,
      idKey: ctx.keys?.idKey,
      lookahead,
    });
    summary.chunks_total += content.chunks.length;
    const write = async () => {
      crashPoint("after-packs");
      let written;
      try {
        written = await batch.write(rel, content, base, seen);
      } catch (err) {
        if (!(err instanceof VersionRaceError)) throw err;
        met.push({
          rel,
          localPath: entry?.localPath ?? tracked!.localPath,
          remoteAuthors: err.unseen.map((h) => h.version.author_name),
        });
        return;
      }
      crashPoint("after-version");
      saveChunkPrints(ctx.state, ns, rel, written.key, prints);
      rememberChunkLocations(ctx.state, ctx.store.location, content.chunks);
      packs.forget(content.chunks);
      clearConflict(ctx.state, ctx.namespace, rel);
      if (entry) {
        ctx.state.putTracked(trackedFrom(ctx, entry, written, content.blake3));
        summary.files++;
      } else {
        ctx.state.putTracked({
          ...tracked!,
          kind: "deleted",
          baseVclock: written.version.vclock,
          baseKey: written.key,
          syncedAt: written.version.written_at,
        });
        summary.deleted++;
      }
    };
    return { durable, write };
  };

  const met: MetConflict[] = [];
  let fatal: unknown;
  // The held paths, then the changed ones past them (a second walk), then the deletions. A
  // job is let go of once taken, so that a file's entry lives as long as its stage.
  const jobs = (async function* (): AsyncGenerator<PushJob> {
    for (let i = 0; i < firstJobs.length; i++) {
      const job = firstJobs[i]!;
      firstJobs[i] = undefined;
      yield job;
    }
    if (resumeAfter !== undefined) {
      // Found changed by the first pass only: a path it took for deleted stays a deletion.
      const deleted = new Set(deletions.map((t) => t.path));
      for await (
        const [local, at] of changedPaths(ctx, request, unchangedSince, { after: resumeAfter })
      ) {
        if (at.changed && !deleted.has(local.rel)) yield [local.rel, local, at.base()];
      }
    }
    for (const t of deletions) yield [t.path, undefined, t];
  })();
  const failed = (rel: string, err: unknown) => {
    if (isLocalFailure(err)) {
      summary.failures.push({ path: rel, error: (err as Error).message });
    } else fatal ??= err;
  };
  const done = () => {
    progress.filesDone++;
    report();
  };
  // A version joins the batch once its packs are durable; the batch writes a segment per
  // thousand versions, and the rest once every file has joined. Waiting for the packs holds no
  // staging slot: a file waiting for its pack to fill must not hold up the files that would
  // fill it. Slots take the next file as they free up, so what is held at once is bounded by
  // the open packs and the batch, not by the tree; a settled write or join is let go of.
  const writes = new Set<Promise<void>>();
  const held = (promises: Set<Promise<void>>, promise: Promise<void>) => {
    promises.add(promise);
    // A rejected one stays, for the wait below to throw.
    promise.then(() => promises.delete(promise), () => {});
  };
  // Staging waits while this many versions wait for their segment: left alone, a push of small
  // files stages faster than its segments are written and folded, and held most of its tree's
  // versions at once (81,000 of 100,000 files, 650 MB of heap). More than a segment's worth, so
  // that a full segment, which is written without waiting for more, is always among them.
  const writesWaitingMax = 2 * SEGMENT_MAX_VERSIONS;
  let room: PromiseWithResolvers<void> | undefined;
  const roomToWrite = async () => {
    while (writes.size >= writesWaitingMax && !fatal) {
      room ??= Promise.withResolvers();
      await room.promise;
    }
  };
  const joinBatch = async (rel: string, ready: Awaited<ReturnType<typeof stageOne>>) => {
    if (!ready || fatal) return done();
    try {
      await ready.durable;
    } catch (err) {
      failed(rel, err);
      return done();
    }
    const writing = ready.write().catch((err) => failed(rel, err)).finally(done);
    held(writes, writing);
    writing.finally(() => {
      room?.resolve();
      room = undefined;
    });
  };
  const joining = new Set<Promise<void>>();
  // Large files take turns of their own, as many at once as the pack writer has lanes.
  const largeFiles = packs.lanes > 0 ? createLimiter(packs.lanes) : undefined;
  const stagingLarge = new Set<Promise<void>>();
  // Files staged since the last full collection. The buffers each byte read passes through
  // (read window, chunk, stored form, sealed box, pack) are not left to collections: their
  // owners free them as they are done (pack_writer.ts, released_buffer.ts).
  let filesSince = 0;
  const stageSlot = async () => {
    while (!fatal) {
      await roomToWrite();
      if (fatal) break;
      let next;
      try {
        next = await jobs.next();
      } catch (err) {
        // The second walk failed (say, the pushed folder itself went away): the push stops.
        fatal ??= err;
        break;
      }
      if (next.done) break;
      // What the files before were staged with is garbage by now, most of it in V8's old space
      // (it waited for its pack long enough to be promoted), which V8 lets grow to several times
      // what is live before collecting it: 270–290 MB of heap around 70 MB live at 100,000 files.
      if (++filesSince > COLLECT_EVERY_FILES) {
        collectFully();
        filesSince = 1;
      }
      const [rel, entry, tracked] = next.value;
      const stage = async () => {
        // A large file's turn may come after a failure stopped the push.
        if (fatal) return undefined;
        return await stageOne(rel, entry, tracked).catch((err) => void failed(rel, err));
      };
      if (largeFiles && entry && isLargeFile(entry.size)) {
        // Packed in a lane of its own, a few at once (pack_writer.ts): it waits for its turn
        // without holding this slot, which goes on with the files after it.
        const staged = largeFiles.run(stage);
        held(stagingLarge, staged.then(() => {}));
        held(joining, staged.then((ready) => joinBatch(rel, ready)));
        continue;
      }
      held(joining, joinBatch(rel, await stage()));
    }
  };
  await Promise.all(Array.from({ length: ctx.fileConcurrency ?? 32 }, stageSlot));
  await Promise.all([...stagingLarge]);
  // A push stopped by a failure lets the second walk go (a database read among it).
  await jobs.return(undefined);
  // Every file is staged: the last, partly filled pack can go.
  await packs.flush();
  await Promise.all([...joining]);
  await batch.flush();
  await Promise.all([...writes]);
  summary.chunks_uploaded = packs.counters.chunksUploaded;
  summary.bytes_uploaded = packs.counters.bytesUploaded;
  if (fatal) throw fatal;
  if (dryRun) {
    summary.planned!.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    summary.conflicts.sort();
    return summary;
  }
  try {
    await writeCheckpointIfDue(ctx);
  } catch (err) {
    // A checkpoint only spares new devices reading; the push itself is done.
    ctx.log?.("warning", `could not write a checkpoint: ${(err as Error).message}`);
  }
  const { resolved, queued } = await applyConflictPolicy(ctx, met, "push");
  summary.auto_resolved = resolved.map((r) => remoteDisplayPath(ctx, r.path));
  summary.conflicts = queued.map((c) => remoteDisplayPath(ctx, c.rel)).sort();
  return summary;
}

/**
 * Whether the chunks recorded for the version `tracked` was synced at may be named again: they
 * carry that version's ids, and a sealed namespace's versions name keyed ids only. So there,
 * the base must be a version at hand of the format being written; one written before the
 * namespace was sealed (plain ids, plaintext packs) lends nothing, and the file is chunked anew.
 */
function lendsPrints(ctx: SyncContext, tracked: TrackedEntry, seen: PathHeads): boolean {
  if (!ctx.keys) return true;
  const base = [...seen.heads, ...seen.kept].find((h) => h.key === tracked.baseKey);
  return base?.version.format === writtenFormat(ctx.keys);
}

/** How a local entry stands against what this device synced at its path. */
interface SyncedState {
  /** New or changed since it was synced (or its store was replaced). */
  changed: boolean;
  /** Its whole tracked row, when it was synced at the same place: the base of its version. */
  base(): TrackedEntry | undefined;
}

/** Where a pass of {@linkcode changedPaths} starts, and whom it tells of what. */
interface PassOptions {
  /** Hears of tcfs's temps. */
  onTemp?: (path: string) => void;
  /**
   * Hears of the paths the scan cannot look at, and why (`scanFolder`), by their remote path.
   * A second pass says nothing: the first told of them.
   */
  onUnreadable?: (rel: string, why: string) => void;
  /** Takes the tracked rows as the pass meets them, with what was found at their path. */
  vanished?: ReturnType<typeof vanishedSorter>;
  /** The pass starts past this path. */
  after?: string;
}

/**
 * What the push finds at `request.localPath`, in path order, merged with the tracked rows:
 * each local entry with how it stands, `unchangedSince` its tracked row telling whether it
 * is as it was synced.
 */
async function* changedPaths(
  ctx: SyncContext,
  request: PushRequest,
  unchangedSince: (tracked: TrackedStat, local: LocalEntry) => Promise<boolean>,
  { onTemp = () => {}, onUnreadable = () => {}, vanished, after }: PassOptions,
): AsyncGenerator<[LocalEntry, SyncedState]> {
  const ns = trackedNamespace(ctx);
  const compared = mergeByPath({
    local: {
      items: localEntries(request, ctx.links ?? "keep", { onTemp, onUnreadable }, after),
      path: (e: LocalEntry) => e.rel,
    },
    tracked: {
      items: ctx.state.trackedStats(ns, request.remoteRel, after),
      path: (t: TrackedStat) => t.path,
    },
  });
  for await (const { local, tracked } of compared) {
    if (tracked) vanished?.add(tracked, local);
    if (!local) continue;
    // What this device synced counts only at the place it synced it to (a pull into another
    // folder records the path there).
    const at = tracked?.localPath === local.localPath ? tracked : undefined;
    // An unlinked path (its store was replaced) goes up again even if unchanged.
    const changed = !(at && !isUnlinked(at) && await unchangedSince(at, local));
    yield [local, { changed, base: () => at && ctx.state.getTracked(ns, at.path) }];
  }
}

/**
 * What the push finds at `request.localPath`, in path order (past `after`, a remote path, if
 * given); `onTemp` hears of tcfs's temps, `onUnreadable` of paths the scan cannot look at.
 */
async function* localEntries(
  request: PushRequest,
  links: LinkMode,
  { onTemp, onUnreadable }: {
    onTemp: (path: string) => void;
    onUnreadable: (rel: string, why: string) => void;
  },
  after?: string,
): AsyncGenerator<LocalEntry> {
  const excluded = createExcludeMatcher(request.excludes, request.remoteRel);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(request.localPath);
  } catch (err) {
    if (isMissingPath(err)) return; // a deleted file or folder: tombstones only
    throw err;
  }
  // Pushed as a link, a folder pulled into it left the remote, and took its files from every
  // device that had them, for a link naming a place on this machine.
  if (request.followLink) info = await namedPathInfo(request.localPath, info);
  if (!info.isDirectory) {
    if (request.remoteRel === "") {
      throw new TcfsError(`cannot push the file ${request.localPath} to a namespace root`, {
        exitCode: 2,
        hint: "give a remote path that names the file, e.g. tcfs/default/report.pdf",
      });
    }
    let entry;
    try {
      entry = await statEntry(request.localPath, request.remoteRel);
    } catch (err) {
      if (!isUnreadableLink(err)) throw err;
      return onUnreadable(request.remoteRel, UNREADABLE_LINK);
    }
    if (!entry) {
      throw new TcfsError(`${request.localPath} is not a regular file, folder or symlink`, {
        exitCode: 2,
        hint: "tcfs syncs files, folders and symlinks only",
      });
    }
    // A skipped link is not a deletion: the vanished sorter untracks it if it was synced.
    if (entry.kind !== "symlink" || links !== "skip") yield entry;
    return;
  }
  const passed = (dir: string, entry: Deno.DirEntry) => {
    if (isTempFile(entry)) onTemp(join(dir, entry.name));
  };
  // The scan's paths are relative to the folder, the push's to the namespace.
  const from = after === undefined || request.remoteRel === ""
    ? after
    : after.slice(request.remoteRel.length + 1);
  const unreadable = (rel: string, why: string) =>
    onUnreadable(joinRel(request.remoteRel, rel), why);
  for await (const entry of scanFolder(request.localPath, excluded, passed, unreadable, from)) {
    if (entry.kind === "symlink" && links === "skip") continue;
    // The scan's entry is this pass's alone: its path is made the remote one in place.
    if (request.remoteRel !== "") entry.rel = `${request.remoteRel}/${entry.rel}`;
    yield entry;
  }
}
