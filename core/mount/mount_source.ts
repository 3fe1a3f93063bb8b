/**
 * What a mount serves, put together: the tree of a remote prefix from the heads, the chunk
 * cache, the range reader, the write-back of changes and the FUSE operations over them. The caller (the CLI, later the
 * daemon) attaches the operations to a directory.
 *
 * @module
 */

import { join } from "node:path";
import { isUnderRel } from "../paths/remote_path.ts";
import type { StateDb } from "../state/state_db.ts";
import { lastFoldedPath, type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import { catchUp } from "../journal/journal_catch_up.ts";
import {
  foldedListing,
  foldedNamespace,
  foldedVersion,
  foldGeneration,
  hasFolded,
} from "../journal/folded_versions.ts";
import { isStoreUnreachable } from "../store/store_unreachable.ts";
import { describeError } from "../errors.ts";
import type { DownloadCounters } from "../sync/verified_content.ts";
import type { FuseOperations } from "./fuse_operations.ts";
import {
  buildMountTree,
  changedFiles,
  type LocalChange,
  type MountTree,
  newInodeTable,
  showHeads,
} from "./mount_tree.ts";
import { pushWriteBack } from "./write_back.ts";
import {
  hydrate,
  isPinned,
  type PinnedContent,
  pinnedContent,
  pinsFile,
  readPins,
} from "./pins.ts";
import type { ChunkCache } from "../cache/chunk_cache.ts";
import { openDeviceChunkCache, savePinnedChunks } from "../cache/device_chunk_cache.ts";
import { createRangeReader } from "./range_reader.ts";
import { createChunkHasher } from "../hashing/chunk_hasher.ts";
import { createMountFilesystem } from "./mount_filesystem.ts";

/** Settings of one mount. */
export interface MountSourceOptions {
  /** `$XDG_CACHE_HOME/tcfs`: the chunk cache and the pins (`tcfs pin`) are below it. */
  cacheDir: string;
  /** Where files being written are staged; emptied when the mount opens. */
  stagingDir: string;
  cacheBytes: number;
  readTimeoutMs: number;
  /** A file kept open is pushed after this long without a write. */
  writeQuietMs: number;
  /** Where failed reads are reported. */
  log: (message: string) => void;
  /** Where the mount is attached: conflicts are queued under the paths they show at. */
  mountpoint: string;
  /** The device's state database (the mount has its own): its queue is `tcfs conflicts`'. */
  deviceState: StateDb;
}

/** A mount's content, ready to attach. */
export interface MountSource {
  ops: FuseOperations;
  /** The tree shown now. */
  readonly tree: MountTree;
  /**
   * Reads the heads again and shows the new tree; returns the inodes of files whose content
   * changed (for the kernel to drop). On failure the old tree stays.
   */
  refresh(): Promise<number[]>;
  cache: ChunkCache;
  /** What reads fetched from the store so far. */
  counters: DownloadCounters;
  /** Chunk fetches in flight now. */
  hydrating(): number;
  /** Bytes of the namespace's pinned files (`tcfs pin`). */
  pinnedBytes(): number;
  /** Stops the hashing thread; for when the mount has ended. */
  close(): void;
}

/**
 * Reads the heads under `prefix` (no content) and opens the cache.
 *
 * @example
 * ```ts
 * const source = await openMountSource(ctx, "docs", { cacheDir, stagingDir, cacheBytes,
 *   readTimeoutMs: 10_000, writeQuietMs: 30_000, log, mountpoint: "/mnt/docs", deviceState });
 * await serveFuse("/mnt/docs", source.ops, { readOnly: true, source: "tcfs:tcfs/default/docs" });
 * ```
 */
export async function openMountSource(
  ctx: SyncContext,
  prefix: string,
  options: MountSourceOptions,
): Promise<MountSource> {
  const inodes = newInodeTable();
  const local = new Map<string, LocalChange>();
  let pinned: PinnedContent = { files: [], chunkIds: new Set(), bytes: 0 };
  let hydrating = false;
  const wanted = (rel: string) => isUnderRel(rel, prefix);
  const inNamespace = (rel: string) => prefix === "" ? rel : `${prefix}/${rel}`;
  const belowPrefix = (rel: string) => prefix === "" ? rel : rel.slice(prefix.length + 1);
  /**
   * Reads under way, each with the paths settled meanwhile: a read may have taken the heads
   * before such a path's push, and shows it again from the fold on the tree it builds.
   */
  const reading = new Set<Set<string>>();
  const showFolded = (target: MountTree, rel: string) =>
    showHeads(target, rel, lastFoldedPath(ctx, inNamespace(rel)).heads);
  const showSettled = (rel: string) => {
    showFolded(tree, rel);
    for (const settled of reading) settled.add(rel);
  };
  /**
   * The fold generation and pins the tree shows: a read that finds both as they were has
   * nothing new to show, and costs only the catch-up (a request per device), however many
   * paths the namespace holds.
   */
  let shown = { generation: "", pins: "" };
  /** A new tree, or undefined when nothing changed since the one shown. */
  const read = async (first = false): Promise<MountTree | undefined> => {
    const settled = new Set<string>();
    reading.add(settled);
    try {
      const built = await readTree(first);
      if (built) { for (const rel of settled) if (!local.has(rel)) showFolded(built, rel); }
      return built;
    } finally {
      reading.delete(settled);
    }
  };
  /** The first read may fall back on the last fold, when the store is away. */
  const readTree = async (first: boolean) => {
    let offline: unknown;
    try {
      for (const err of await catchUp(ctx)) options.log(err.message);
    } catch (err) {
      if (!first || !isStoreUnreachable(err)) throw err;
      offline = err;
    }
    const generation = foldGeneration(ctx.state, trackedNamespace(ctx));
    const pins = await readPins(pinsFile(options.cacheDir));
    const now = { generation, pins: JSON.stringify(pins) };
    if (!first && now.generation === shown.generation && now.pins === shown.pins) return undefined;
    // Caught up just now, or offline: the fold is the store as last read.
    const ns = trackedNamespace(ctx);
    if (offline && !hasFolded(ctx.state, ns)) throw offline; // never read: nothing to show
    if (offline) {
      options.log(
        `${describeError(offline)}: showing the tree as last read, with what is cached; ` +
          "the rest reads once the store answers",
      );
    }
    const was = pinned.chunkIds;
    // Only pinned paths' versions are read whole: the tree needs none.
    const pinnedPath = (rel: string) => wanted(rel) && isPinned(pins, ctx.namespace, rel);
    pinned = pinnedContent(
      pins.some((p) => p.namespace === ctx.namespace)
        ? foldedNamespace(ctx.state, ns, pinnedPath).values()
        : [],
      ctx.namespace,
      pins,
    );
    // For pulls filling the cache, which do not read this namespace's pins. A mount of part of
    // the namespace sees part of its pins: `tcfs pin` recorded them.
    if (prefix === "" && !sameSet(was, pinned.chunkIds)) {
      await savePinnedChunks(options.cacheDir, ctx.namespace, pinned.chunkIds);
    }
    shown = now;
    return buildMountTree(foldedListing(ctx.state, ns, prefix), prefix, inodes, local);
  };
  /** Pinned files changed or pinned elsewhere are fetched in the background, one at a time. */
  const hydratePinned = () => {
    if (hydrating || pinned.files.every((v) => v.chunks.every((c) => cache.has(c.id)))) return;
    hydrating = true;
    hydrate(reader, pinned.files)
      .then((failed) => {
        for (const { path, error } of failed) options.log(`pinned ${path} not cached: ${error}`);
      })
      .finally(() => hydrating = false);
  };
  await setAsideStaging(options.stagingDir, options.log);
  await Deno.mkdir(options.stagingDir, { recursive: true, mode: 0o700 });
  let tree = (await read(true))!;
  const cache = await openDeviceChunkCache(
    options.cacheDir,
    options.cacheBytes,
    (id) => pinned.chunkIds.has(id),
  );
  const counters: DownloadCounters = { chunksDownloaded: 0, bytesDownloaded: 0 };
  const hasher = createChunkHasher();
  const reader = createRangeReader(ctx.store, cache, {
    keys: ctx.keys,
    timeoutMs: options.readTimeoutMs,
    counters,
    hasher,
  });
  const refresh = async () => {
    const fresh = await read();
    const changed = fresh ? changedFiles(tree, fresh) : [];
    if (fresh) tree = fresh;
    hydratePinned();
    return changed;
  };
  hydratePinned();
  const ops = createMountFilesystem({
    tree: () => tree,
    version: (rel, key) => foldedVersion(ctx.state, trackedNamespace(ctx), inNamespace(rel), key),
    reader,
    log: options.log,
    cacheBytes: () => ({ used: cache.usedBytes, max: cache.maxBytes }),
    local,
    stagingDir: options.stagingDir,
    writeQuietMs: options.writeQuietMs,
    writeBack: async (change) => {
      const outcome = await pushWriteBack(
        ctx,
        { ...change, rel: inNamespace(change.rel) },
        {
          stagingDir: options.stagingDir,
          deviceState: options.deviceState,
          mountPath: (rel) => join(options.mountpoint, belowPrefix(rel)),
        },
      );
      for (const copy of [outcome?.keptAs ?? [], outcome?.copies ?? []].flat()) {
        showSettled(belowPrefix(copy));
      }
      return outcome;
    },
    settled: showSettled,
  });
  return {
    ops,
    get tree() {
      return tree;
    },
    refresh,
    cache,
    counters,
    hydrating: () => reader.inFlight,
    pinnedBytes: () => pinned.bytes,
    close: () => hasher[Symbol.dispose](),
  };
}

/** Files an earlier mount staged and never pushed (it was killed) are moved aside, not lost. */
async function setAsideStaging(dir: string, log: (message: string) => void): Promise<void> {
  let left = 0;
  try {
    for await (const _ of Deno.readDir(dir)) left++;
  } catch {
    return; // no staging folder yet
  }
  if (left === 0) return await Deno.remove(dir);
  const aside = `${dir}.left-${new Date().toISOString().replaceAll(":", "")}`;
  await Deno.rename(dir, aside);
  log(`${left} files an earlier mount was writing and never pushed are kept in ${aside}`);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((id) => b.has(id));
}
