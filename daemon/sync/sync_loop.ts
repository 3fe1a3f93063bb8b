/**
 * The daemon's sync loop for one sync root (the namespace root "" ↔ the root folder). One step
 * runs at a time, in this order:
 *
 * 1. control API operations (`tcfs push` and friends through the daemon);
 * 2. pulls of paths other devices announced;
 * 3. a full scan (push of the whole root): at start, after an event overflow, after failures,
 *    and periodically when file watching is unavailable;
 * 4. pushes of the paths the watcher reported, once they have settled;
 * 5. a poll (pull of the whole namespace): at start, every `poll_interval_secs` while NATS is
 *    off or down, and every few minutes as a safety net while it is up.
 *
 * The store is the truth: events only say where to look. Files this loop pulls are recorded
 * in the state db with their new stat, so the watcher events their writes cause are
 * recognised (same stat) and never pushed back.
 *
 * @module
 */

import { join } from "node:path";
import { TcfsError } from "../../core/errors.ts";
import { createPathExcluder } from "../../core/sync/exclude_matcher.ts";
import { gitDirPath } from "../../core/git/git_dir_path.ts";
import { isUnreadableLink, statEntry } from "../../core/sync/local_scanner.ts";
import { isMissingPath } from "../../core/io/lstat_if_present.ts";
import { isUnlinked } from "../../core/state/state_db.ts";
import { unchangedByStat } from "../../core/sync/local_change.ts";
import type { PushRequest } from "../../core/sync/push.ts";
import type { PullRequest } from "../../core/sync/pull.ts";
import type { SyncContext } from "../../core/sync/sync_context.ts";
import { storeWasReplaced, trackedNamespace } from "../../core/sync/sync_context.ts";
import { catchUp } from "../../core/journal/journal_catch_up.ts";
import { createAwaitedSegments, type JournalPosition } from "./awaited_segments.ts";
import { foldGeneration } from "../../core/journal/folded_versions.ts";
import { confinedPath } from "../../core/paths/confined_path.ts";
import { unsafePathReason } from "../../core/paths/remote_path.ts";
import type { SyncRootStatus } from "../api/api_types.ts";
import type { DaemonLog } from "../daemon_log.ts";
import { createWakeSignal } from "../nats/wake_signal.ts";
import { type ChangeBatch, createChangeBatcher } from "./change_batcher.ts";
import { reportedPulls, reportedPushes, type TransferReporting } from "./reported_transfers.ts";
import { sweepTempFiles } from "../../core/sync/temp_sweeper.ts";
import {
  assertNoMassDelete,
  DEFAULT_MASS_DELETE_LIMITS,
  type MassDeleteLimits,
} from "../../core/sync/deletion_guard.ts";
import { prepareSyncRoot, ROOT_MARKER } from "../../core/sync/root_marker.ts";
import { type TreeWatcher, type TreeWatcherOptions, watchTree } from "./tree_watcher.ts";

/** The settings the loop reads on every step, so a reload applies at once. */
export interface LoopSettings {
  excludes: readonly string[];
  debounceMs: number;
  pollIntervalSecs: number;
  /** When a scan's deletions make a mass deletion; the defaults when unset. */
  massDelete?: MassDeleteLimits;
}

/** Options for {@linkcode createSyncLoop}. */
export interface SyncLoopOptions {
  /** The absolute sync root. */
  root: string;
  /** The current sync context (its store changes on reload). */
  context(): SyncContext;
  settings(): LoopSettings;
  /** Whether NATS events flow now; when not, the loop polls the store. */
  natsConnected(): boolean;
  reporting: TransferReporting;
  log: DaemonLog;
  /**
   * Runs before each of the loop's own steps: the daemon makes sure it holds the current keys
   * of a sealed namespace, and throws `not_approved` when it holds none, so that nothing is
   * pushed or pulled (the step is tried again at the next poll).
   */
  beforeStep?(): Promise<void>;
  /** Starts the OS watcher; `Deno.watchFs` by default. */
  watch?: TreeWatcherOptions["watch"];
  /** How long after a scan the next one comes while the watcher works; an hour by default. */
  safetyScanMs?: number;
}

/** A running sync loop. */
export interface SyncLoop {
  /**
   * Starts the loop: once the root is there (a missing root that files were synced from is
   * waited for, never taken as deleted), leftover temp files go, watching starts, and the
   * start-up scan and poll run.
   */
  start(): Promise<void>;
  /**
   * Paths (relative to the namespace) another device changed; `segment`, when the event said,
   * is where that device's journal holds the change.
   */
  remoteChanged(paths: readonly string[], segment?: JournalPosition): void;
  /** Something changed in the store, nobody can say what (an event it can't read): poll. */
  pollSoon(): void;
  /** Runs `operation` between two steps of the loop, so it never races the loop's own work. */
  exclusive<T>(operation: (ctx: SyncContext) => Promise<T>): Promise<T>;
  /** The settings changed (a reload): rescan, since the excludes may have changed. */
  settingsChanged(): void;
  status(): SyncRootStatus;
  /**
   * Stops watching and taking work, lets the step in progress finish (a multi-file push stops
   * between files), and resolves when the loop is idle.
   */
  stop(): Promise<void>;
}

/** How soon a poll looks again for a segment an event named that the store did not list yet. */
const LOOK_AGAIN_MS = 2_000;

/** The safety poll while NATS is up: at least this often, however long the poll interval. */
const SAFETY_POLL_MS = 300_000;
/** The longest the loop sleeps, so a change of NATS state is noticed quickly. */
const MAX_IDLE_MS = 1_000;
/** The wait after a failed step before the loop tries again. */
const RETRY_DELAY_MS = 5_000;
/** Rescans after local failures, and pulls of a fold that failed, back off from this to {@linkcode MAX_RESCAN_DELAY_MS}. */
const FIRST_RESCAN_DELAY_MS = 30_000;
const MAX_RESCAN_DELAY_MS = 600_000;
/**
 * How long after pushing a changed folder the root is scanned once more. The OS watcher adds
 * its watch on a new folder only after it has reported the folder, so a file made in it in
 * between is reported by nothing; a scan made by then may have come before the file did.
 */
const FOLDER_SETTLE_MS = 1_000;
/**
 * The safety rescan while the watcher works: its events are hints, as NATS's are. A change no
 * event reported (one the OS dropped without saying so, or made in a folder before the watch on
 * it) is pushed within this at worst; a scan of an unchanged root of 100,000 files takes ~1 s.
 */
const SAFETY_SCAN_MS = 3_600_000;

/**
 * Creates the loop for `options.root`; nothing happens until {@linkcode SyncLoop.start}.
 *
 * @example
 * ```ts
 * const loop = createSyncLoop({ root, context: () => ctx, settings, natsConnected, reporting, log });
 * await loop.start();
 * bus.onEvent(async (event) => loop.remoteChanged([event.path!]));
 * await loop.stop();
 * ```
 */
export function createSyncLoop(options: SyncLoopOptions): SyncLoop {
  const { root, log, reporting } = options;
  const batcher = createChangeBatcher(() => options.settings().debounceMs);
  const remote = new Set<string>();
  /** Paths below a synced file whose remote deletion has not come yet (see `pullPaths`). */
  const waitingOnParent = new Set<string>();
  const awaited = createAwaitedSegments((message) => log("warning", message));
  const operations: { run(): Promise<void>; cancel(err: TcfsError): void }[] = [];
  const wake = createWakeSignal();
  let scanWanted = true;
  let pollWanted = true;
  /** When to poll early, for a segment an event named that the store did not list yet. */
  let lookAgainAt: number | undefined;
  let scanDueAt: number | undefined;
  let rescanDelayMs = FIRST_RESCAN_DELAY_MS;
  let lastPollAt = 0;
  let retryAt = 0;
  let watcherState: SyncRootStatus["watcher"] = "starting";
  let watcher: TreeWatcher | undefined;
  let stopping = false;
  let worker: Promise<void> | undefined;
  let lastSyncAt: string | undefined;
  let lastError: string | undefined;
  /**
   * Why local deletions are held back (the mass-delete guard stopped a scan): shown as the
   * root's error, and kept until a scan passes (the files came back, or the user pushed the
   * root with --allow-mass-delete). Pulls go on meanwhile.
   */
  let held: string | undefined;
  let matcher = { key: "", excluded: (_rel: string) => false };

  const excluded = (rel: string): boolean => {
    const patterns = options.settings().excludes;
    const key = JSON.stringify(patterns);
    if (key !== matcher.key) matcher = { key, excluded: createPathExcluder(patterns) };
    return matcher.excluded(rel);
  };
  const shouldStop = () => stopping;
  const pollIntervalMs = () => {
    const poll = options.settings().pollIntervalSecs * 1000;
    return options.natsConnected() ? Math.max(SAFETY_POLL_MS, 10 * poll) : poll;
  };

  const scan = async (ctx: SyncContext) => {
    scanDueAt = Date.now() +
      (watcherState === "rescanning"
        ? options.settings().pollIntervalSecs * 1000
        : options.safetyScanMs ?? SAFETY_SCAN_MS);
    const summary = await reportedPushes(reporting, ctx, [rootPush()], {
      operation: "scan",
      shouldStop,
    });
    if (summary.failures.length > 0) {
      scanDueAt = Math.min(scanDueAt ?? Infinity, Date.now() + rescanDelayMs);
      rescanDelayMs = Math.min(MAX_RESCAN_DELAY_MS, 2 * rescanDelayMs);
    } else rescanDelayMs = FIRST_RESCAN_DELAY_MS;
  };

  // A root that is a link to a folder elsewhere (~/Sync on another disk) is that folder.
  const rootPush = (): PushRequest => ({ ...pushOf(root, ""), followLink: true });
  const pushOf = (localPath: string, remoteRel: string): PushRequest => ({
    localPath,
    remoteRel,
    excludes: options.settings().excludes,
    syncRoot: root,
    massDelete: massDeleteLimits(),
  });
  const massDeleteLimits = () => options.settings().massDelete ?? DEFAULT_MASS_DELETE_LIMITS;

  const pushBatch = async (ctx: SyncContext, batch: ChangeBatch) => {
    const requests: PushRequest[] = [];
    let wholeRoot = false;
    let folderChanged = false;
    let deletions = 0;
    for (const rel of batch.paths) {
      if (excluded(rel)) continue;
      const localPath = join(root, rel);
      const info = await Deno.lstat(localPath).catch((err) => {
        if (isMissingPath(err)) return undefined;
        throw err;
      });
      const tracked = ctx.state.getTracked(trackedNamespace(ctx), rel);
      if (info?.isDirectory) wholeRoot = folderChanged = true;
      else if (info?.isFile || info?.isSymlink) {
        // A link whose target cannot be read goes to push, which reports it alone.
        const entry = await statEntry(localPath, rel).catch((err) => {
          if (isUnreadableLink(err)) return undefined;
          throw err;
        });
        // Unchanged since it was last synced: typically a file this loop just pulled.
        if (entry && tracked?.localPath === localPath && unchangedByStat(tracked, entry)) continue;
        requests.push(pushOf(localPath, rel));
      } else if (!info) {
        if (tracked && tracked.kind !== "deleted" && tracked.localPath === localPath) {
          // Held deletions wait for the scan that settles the hold.
          if (held) continue;
          requests.push(pushOf(localPath, rel));
          deletions++;
        } else if (
          ctx.state.listTracked(trackedNamespace(ctx), rel).some((t) =>
            t.path !== rel && t.kind !== "deleted"
          )
        ) wholeRoot = true; // a synced folder went away
      }
    }
    if (!wholeRoot && requests.length === 0) return;
    // Files deleted one by one, as many as a mass deletion, are one too.
    if (deletions >= massDeleteLimits().minFiles) {
      assertNoMassDelete(
        root,
        { deletions, tracked: ctx.state.syncedPathsFrom(root).length },
        massDeleteLimits(),
      );
    }
    await reportedPushes(reporting, ctx, wholeRoot ? [rootPush()] : requests, {
      operation: "push",
      renames: batch.renames,
      shouldStop,
    });
    if (folderChanged) scanDueAt = Math.min(scanDueAt ?? Infinity, Date.now() + FOLDER_SETTLE_MS);
  };

  const pullPaths = async (ctx: SyncContext, rels: string[], again = false) => {
    if (!again) {
      // A git directory comes whole: an object's deletion after the pack that replaces it,
      // a ref with the objects it names (pull.ts).
      rels = [
        ...new Set([...rels, ...waitingOnParent].map((rel) => gitDirPath(rel)?.gitDir ?? rel)),
      ];
      waitingOnParent.clear();
    }
    const requests: PullRequest[] = [];
    const blocked: string[] = [];
    const wanted = new Set(rels);
    for (const rel of rels) {
      const unsafe = unsafePathReason(rel);
      if (unsafe) {
        log("warning", `ignoring an event for the path ${JSON.stringify(rel)}: it ${unsafe}`);
        continue;
      }
      try {
        requests.push({
          remoteRel: rel,
          localTarget: await confinedPath(root, rel, "an event"),
          within: root,
        });
      } catch (err) {
        const parent = await syncedParentInTheWay(ctx, rel);
        if (parent !== undefined && again) {
          // The file in the way is still current remotely: its deletion, pushed in a later
          // batch, has not come yet. The path goes with the next pull an event asks for.
          waitingOnParent.add(rel);
          continue;
        }
        if (parent === undefined) {
          log("warning", `ignoring an event for ${rel}: ${(err as Error).message}`);
          continue;
        }
        blocked.push(rel);
        // The file another device replaced by a folder goes first (its deletion's event may
        // come later, or have come already).
        if (!wanted.has(parent)) {
          wanted.add(parent);
          requests.push({ remoteRel: parent, localTarget: join(root, parent), within: root });
        }
      }
    }
    await reportedPulls(reporting, ctx, requests, {
      operation: "pull",
      missingIsEmpty: true,
      shouldStop,
    });
    if (blocked.length > 0) await pullPaths(ctx, blocked, true);
  };

  /**
   * The regular file on the way to `rel` when this device synced it as such. Never a symlink:
   * should its path have no versions to show (all from a revoked device, say), the pull would
   * take it for a folder and write through the link.
   */
  const syncedParentInTheWay = async (ctx: SyncContext, rel: string) => {
    const segments = rel.split("/");
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join("/");
      const info = await Deno.lstat(join(root, parent)).catch(() => undefined);
      if (info?.isDirectory) continue;
      const tracked = info?.isFile && ctx.state.getTracked(trackedNamespace(ctx), parent);
      const synced = tracked && tracked.kind === "file" && !isUnlinked(tracked) &&
        tracked.localPath === join(root, parent);
      return synced ? parent : undefined;
    }
    return undefined;
  };

  /**
   * The fold a poll last pulled, and when to pull it again with nothing new: never, once a pull
   * went through; else after a delay that doubles while the fold stays (a path left out, a
   * conflict queued, an edit kept would only fail the same way at every poll, each a pull of
   * the whole namespace). What settles them (the user's resolution, rename or edit) is pushed,
   * which moves the fold, or is at least a local change, after which the next poll pulls again.
   */
  let pulled: { ns: string; generation: string; againAt?: number } | undefined;
  let repullDelayMs = FIRST_RESCAN_DELAY_MS;
  const poll = async (ctx: SyncContext) => {
    lastPollAt = Date.now();
    // A replaced store needs the pull whatever the fold says (its checks are rate-limited).
    if (await storeWasReplaced(ctx)) pulled = undefined;
    // A catch-up costs a request per device however big the tree; the pull reads every path.
    for (const err of await catchUp(ctx)) log("warning", err.message);
    if (awaited.behind(ctx)) lookAgainAt = Date.now() + LOOK_AGAIN_MS;
    const ns = trackedNamespace(ctx);
    const generation = foldGeneration(ctx.state, ns);
    const same = pulled?.ns === ns && pulled.generation === generation;
    if (same && Date.now() < (pulled!.againAt ?? Infinity)) return;
    if (!same) repullDelayMs = FIRST_RESCAN_DELAY_MS;
    pulled = undefined;
    const summary = await reportedPulls(reporting, ctx, [{ remoteRel: "", localTarget: root }], {
      operation: "poll",
      missingIsEmpty: true,
      shouldStop,
    });
    const clean = summary.failures.length === 0 && summary.conflicts.length === 0 &&
      summary.kept_modified.length === 0;
    if (clean) pulled = { ns, generation };
    else {
      pulled = { ns, generation, againAt: Date.now() + repullDelayMs };
      repullDelayMs = Math.min(MAX_RESCAN_DELAY_MS, 2 * repullDelayMs);
    }
  };

  /** The next step due now, with what to put back if it fails. */
  const nextStep = (now: number): Step | undefined => {
    const operation = operations.shift();
    if (operation) return { run: operation.run, undo: () => {}, fromApi: true };
    if (now < retryAt) return undefined;
    if (remote.size > 0) {
      const rels = [...remote];
      remote.clear();
      return {
        run: async (ctx) => {
          await pullPaths(ctx, rels);
          // A segment an event named that the catch-up did not list yet: look again soon.
          if (awaited.behind(ctx)) lookAgainAt = Date.now() + LOOK_AGAIN_MS;
        },
        undo: () => rels.forEach((rel) => remote.add(rel)),
      };
    }
    if (scanWanted || (scanDueAt !== undefined && now >= scanDueAt)) {
      scanWanted = false;
      return { run: scan, undo: () => (scanWanted = true), scan: true };
    }
    const readyAt = batcher.readyAt();
    if (readyAt !== undefined && now >= readyAt) {
      const batch = batcher.take();
      return {
        run: (ctx) => pushBatch(ctx, batch),
        undo: () => {
          for (const rename of batch.renames) batcher.add(rename, rename);
          batcher.add(batch.paths);
        },
      };
    }
    const lookAgain = lookAgainAt !== undefined && now >= lookAgainAt;
    if (pollWanted || lookAgain || now >= lastPollAt + pollIntervalMs()) {
      pollWanted = false;
      lookAgainAt = undefined;
      return { run: poll, undo: () => (pollWanted = true) };
    }
    return undefined;
  };

  const nextDueAt = (now: number): number =>
    Math.min(
      retryAt > now ? retryAt : Infinity,
      batcher.readyAt() ?? Infinity,
      scanDueAt ?? Infinity,
      lastPollAt + pollIntervalMs(),
      lookAgainAt ?? Infinity,
      now + MAX_IDLE_MS,
    );

  const work = async () => {
    while (!stopping) {
      const now = Date.now();
      const step = nextStep(now);
      if (!step) {
        await wake.wait(Math.max(0, nextDueAt(now) - now));
        continue;
      }
      try {
        if (!step.fromApi) await options.beforeStep?.();
        // Taken after beforeStep, which may have read newer keys.
        const ctx = options.context();
        if (!step.fromApi) await prepareRoot(ctx);
        await step.run(ctx);
        if (!step.fromApi) {
          lastSyncAt = new Date().toISOString();
          lastError = undefined;
        }
        if (step.scan && held) {
          log("info", `deletions in ${root} are no longer held back`);
          held = undefined;
        }
      } catch (err) {
        if (stopping) break;
        if (!step.fromApi && err instanceof TcfsError && err.kind === "mass_delete") {
          holdDeletions(err);
          if (!step.scan) {
            // The batch's edits go again, its deletions skipped now that they are held.
            step.undo();
            retryAt = Date.now() + RETRY_DELAY_MS;
          }
          continue;
        }
        step.undo();
        // Not approved (yet) for a sealed namespace: only another device can change that, so
        // the loop asks again at the next poll rather than every few seconds.
        const refused = err instanceof TcfsError && err.kind === "not_approved";
        const delayMs = refused
          ? Math.max(RETRY_DELAY_MS, options.settings().pollIntervalSecs * 1000)
          : RETRY_DELAY_MS;
        retryAt = Date.now() + delayMs;
        const message = errorText(err);
        // The same failure again (the store still down) is logged once, not every 5 s.
        log(
          message === lastError ? "debug" : refused ? "error" : "warning",
          `sync of ${root} failed, retrying in ${Math.round(delayMs / 1000)} s: ${message}`,
        );
        lastError = message;
      }
    }
  };

  /**
   * The mass-delete guard stopped a scan or a batch: nothing of it was pushed. The next scan
   * is scheduled later on (it pushes only once the guard lets it), and pulls go on.
   */
  const holdDeletions = (err: TcfsError) => {
    const message = errorText(err);
    if (message !== held) log("error", `deletions in ${root} held back: ${message}`);
    held = message;
    scanDueAt = Math.min(scanDueAt ?? Infinity, Date.now() + rescanDelayMs);
    rescanDelayMs = Math.min(MAX_RESCAN_DELAY_MS, 2 * rescanDelayMs);
  };

  /**
   * Makes sure the root is there before each step: a missing root (an unmounted drive) must
   * never read as "every file was deleted". A root nothing was ever synced from is created.
   * The root must hold its marker (root_marker.ts): one is added to a new root and to a root
   * that still holds files; an empty root that files were synced from (an unmounted drive's
   * mount point) is refused. The first time it is there, leftover temp files go and watching
   * starts.
   */
  const prepareRoot = async (ctx: SyncContext) => {
    const marker = await prepareSyncRoot(root, () => ctx.state.syncedPathsFrom(root));
    if (marker === "created") log("info", `created ${join(root, ROOT_MARKER)}: a new sync root`);
    if (marker === "adopted") {
      log(
        "info",
        `created ${join(root, ROOT_MARKER)}: ${root} was synced before root markers existed`,
      );
    }
    if (watcher) return;
    await sweepTempFiles(root, { log });
    watcherState = "watching";
    watcher = watchTree({
      root,
      watch: options.watch,
      onChange(paths, rename) {
        const kept = paths.filter((rel) => !excluded(rel));
        const keepRename = rename && kept.includes(rename[0]) && kept.includes(rename[1]);
        batcher.add(kept, keepRename ? rename : undefined);
        // The change may settle what the last pull could not do (a file in a path's way gone);
        // one to an excluded path (a build's output, tcfs's own temp files) cannot.
        if (kept.length > 0 && pulled?.againAt !== undefined) pulled.againAt = 0;
        wake.wake();
      },
      onRescan() {
        log("info", `the OS dropped file events for ${root}: rescanning it`);
        scanWanted = true;
        wake.wake();
      },
      onFailure: onWatchFailure,
    });
  };

  const onWatchFailure = (err: Error) => {
    watcherState = "rescanning";
    const limits = /os error (28|24)\b/.test(err.message)
      ? " The OS ran out of file watches: raise fs.inotify.max_user_watches and " +
        "fs.inotify.max_user_instances (sysctl), then restart the daemon."
      : "";
    log(
      "warning",
      `watching ${root} failed: ${err.message}.${limits} Falling back to a full rescan every ` +
        `${options.settings().pollIntervalSecs} s.`,
    );
    reporting.metrics.recordError("watch");
    reporting.activity({
      kind: "sync",
      at: new Date().toISOString(),
      operation: "watch",
      outcome: "error",
      paths: [],
      error: err.message,
    });
    scanWanted = true;
    wake.wake();
  };

  return {
    async start() {
      try {
        await prepareRoot(options.context());
      } catch (err) {
        // The loop keeps trying (and reports it in the status); said here once.
        lastError = errorText(err);
        log("warning", `cannot sync ${root} yet: ${lastError}`);
      }
      worker = work();
    },
    remoteChanged(paths, segment) {
      for (const path of paths) remote.add(path);
      if (segment) awaited.expect(segment);
      wake.wake();
    },
    pollSoon() {
      pollWanted = true;
      wake.wake();
    },
    exclusive(operation) {
      if (stopping) return Promise.reject(stoppingError());
      return new Promise((resolve, reject) => {
        operations.push({
          run: () =>
            operation(options.context()).then((value) => {
              // The user acted (e.g. pushed with --allow-mass-delete): see if the hold is over.
              if (held) scanWanted = true;
              resolve(value);
            }, reject),
          cancel: reject,
        });
        wake.wake();
      });
    },
    settingsChanged() {
      scanWanted = true;
      wake.wake();
    },
    status: () => ({
      path: root,
      watcher: watcherState,
      ...(lastSyncAt ? { last_sync_at: lastSyncAt } : {}),
      ...(held ?? lastError ? { last_error: held ?? lastError } : {}),
      pending_changes: batcher.size() + remote.size,
    }),
    async stop() {
      stopping = true;
      watcher?.close();
      for (const operation of operations.splice(0)) operation.cancel(stoppingError());
      wake.wake();
      await worker;
    },
  };
}

/** One step of the loop, and how to put its work back when it fails. */
interface Step {
  /** Runs the step on `ctx` (an API operation takes its own context). */
  run(ctx: SyncContext): Promise<void>;
  undo(): void;
  /** A control API operation: its outcome goes to its caller, not into the root's status. */
  fromApi?: boolean;
  /** A full scan: when it passes, held deletions are settled. */
  scan?: boolean;
}

/** An error as the log and the status show it: the message, and what to do about it. */
function errorText(err: unknown): string {
  if (err instanceof TcfsError && err.hint) return `${err.message} (${err.hint})`;
  return err instanceof Error ? err.message : String(err);
}

function stoppingError(): TcfsError {
  return new TcfsError("the daemon is stopping", {
    kind: "daemon_stopping",
    hint: "run the command again once the daemon has restarted, or without it",
  });
}
