/**
 * Everything a sync operation needs to know about where it runs.
 *
 * @module
 */

import { fileUnderStore } from "../state/store_filing.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import type { NamespaceHeads, PathHeads } from "../journal/stored_version.ts";
import {
  type FoldedEntry,
  foldedInOrder,
  foldedNamespace,
  foldedPath,
  foldedPathsAmong,
  type SoleHead,
  soleHeadsAmong,
} from "../journal/folded_versions.ts";
import type { TcfsError } from "../errors.ts";
import { catchUp } from "../journal/journal_catch_up.ts";
import type { ConflictMode, LinkMode } from "../config/config_schema.ts";
import { checkStoreIdentity } from "../state/store_identity.ts";
import type { FleetKeys } from "../crypto/fleet_keys.ts";
import type { ChunkCache } from "../cache/chunk_cache.ts";

/** This device, as versions name it. */
export interface DeviceRef {
  id: string;
  name: string;
}

/** The shared inputs of push, pull and status. */
export interface SyncContext {
  store: ObjectStore;
  state: StateDb;
  device: DeviceRef;
  bucket: string;
  namespace: string;
  /**
   * The fleet's keys when the namespace is sealed (end-to-end encrypted): every pack, journal
   * object and event written is sealed with them, and only sealed journal objects are read.
   * Absent for a plaintext namespace.
   */
  keys?: FleetKeys;
  /** Revoked devices (id → revoked_at): their later versions are ignored. */
  revoked?: ReadonlyMap<string, string>;
  /** Files processed at once. */
  fileConcurrency?: number;
  /**
   * Large files a push packs at once, each into packs of its own (`PackWriterOptions.lanes`);
   * tests set 0 to lay them out as writers did before lanes.
   */
  packLanes?: number;
  /** How conflicts are handled; `interactive` (queue, decide later) when unset. */
  conflictMode?: ConflictMode;
  /** Conflict copies kept per path (newest first); 10 when unset. */
  maxConflicts?: number;
  /** Whether symlinks are pushed and pulled; `keep` when unset. */
  links?: LinkMode;
  /**
   * The device's chunk cache (`core/cache/device_chunk_cache.ts`), opened when a pull first has
   * content to restore: pulls read chunks from it and put what they fetched into it. Pulls go
   * to the store alone when unset or when it gives none (a device without mounts).
   */
  chunkCache?: () => Promise<ChunkCache | undefined>;
  /** Where warnings go (the daemon's logger); silent when unset. */
  log?: (level: "debug" | "info" | "warning" | "error", message: string) => void;
}

/**
 * The key the state db files this context's paths under: the namespace within the store it
 * belongs to, so a device syncing with two stores (or a new bucket) never mistakes what it
 * synced with one for the other.
 *
 * @example
 * ```ts
 * ctx.state.getTracked(trackedNamespace(ctx), "docs/a.txt");
 * ```
 */
export function trackedNamespace(ctx: Pick<SyncContext, "store" | "namespace">): string {
  return fileUnderStore(ctx.store.location, ctx.namespace);
}

/**
 * How often a long-running process checks its store's identity again. A store
 * is rarely emptied, and a daemon's idle scans should not each cost a request.
 */
const IDENTITY_RECHECK_MS = 60_000;

/** When each state database last checked each store, by location. */
const identityCheckedAt = new WeakMap<StateDb, Map<string, number>>();

/**
 * Checks that the store is the one this device last synced with (see
 * store_identity.ts), at most once a minute per process. Returns true when it
 * was emptied or replaced, in which case the device's state for it has been reset.
 *
 * @example
 * ```ts
 * summary.store_replaced = await storeWasReplaced(ctx);
 * ```
 */
export async function storeWasReplaced(ctx: SyncContext): Promise<boolean> {
  const checked = identityCheckedAt.get(ctx.state) ?? new Map<string, number>();
  identityCheckedAt.set(ctx.state, checked);
  const last = checked.get(ctx.store.location);
  if (last !== undefined && Date.now() - last < IDENTITY_RECHECK_MS) return false;
  const replaced = await checkStoreIdentity(ctx.state, ctx.store) === "replaced";
  checked.set(ctx.store.location, Date.now());
  if (replaced) {
    ctx.log?.(
      "warning",
      `${ctx.store.location} is not the store this device last synced with (emptied or ` +
        `replaced); what this device knew about it was reset and every file is compared afresh`,
    );
  }
  return replaced;
}

/** Progress of a transfer, for progress bars. */
export interface TransferProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/**
 * The user-facing name of a remote path: `<bucket>/<namespace>/<rel>`.
 *
 * @example
 * ```ts
 * remoteDisplayPath(ctx, "report.pdf"); // "tcfs/default/report.pdf"
 * ```
 */
export function remoteDisplayPath(ctx: SyncContext, rel: string): string {
  // Without arrays: a status names every path of the tree.
  const joined = (a: string, b: string) => (a === "" ? b : b === "" ? a : `${a}/${b}`);
  return joined(joined(ctx.bucket, ctx.namespace), rel);
}

/**
 * The heads of one path as this context sees them, after catching up with the store: revoked
 * devices' later versions left out. Every reader of heads goes through this,
 * {@linkcode namespaceHeads}, {@linkcode foldedPaths} or {@linkcode headsLookup}, so none can
 * forget revocation or read a stale fold.
 *
 * @example
 * ```ts
 * const { heads } = await pathHeads(ctx, "docs/a.txt");
 * ```
 */
export async function pathHeads(ctx: SyncContext, rel: string): Promise<PathHeads> {
  return (await headsLookup(ctx))(rel);
}

/**
 * The heads of every path of the context's namespace that `wanted` accepts, after catching
 * up; what could not be read is collected, not thrown.
 *
 * @example
 * ```ts
 * const { byPath } = await namespaceHeads(ctx, (rel) => isUnderRel(rel, "docs"));
 * ```
 */
export async function namespaceHeads(
  ctx: SyncContext,
  wanted: (rel: string) => boolean,
): Promise<NamespaceHeads> {
  const unreadable = await catchUp(ctx);
  return { byPath: foldedNamespace(ctx.state, trackedNamespace(ctx), wanted), unreadable };
}

/**
 * {@linkcode pathHeads} as this device folded them last, without the store: for a writer that
 * has just folded its own version of the path in.
 *
 * @example
 * ```ts
 * const { heads } = lastFoldedPath(ctx, "docs/a.txt");
 * ```
 */
export function lastFoldedPath(ctx: SyncContext, rel: string): PathHeads {
  return foldedPath(ctx.state, trackedNamespace(ctx), rel);
}

/**
 * Every path of the fold at or below `prefix` ("" = the namespace), in path order, and a
 * lookup of their heads, after catching up; what could not be read is collected, not thrown.
 * For passes over a whole tree, which read the heads only of the paths they look into.
 *
 * @example
 * ```ts
 * const { folded, headsFor } = await foldedPaths(ctx, "docs");
 * for (const path of folded) if (path.soleHead !== baseKey) look(headsFor(path.path));
 * ```
 */
export async function foldedPaths(
  ctx: SyncContext,
  prefix: string,
): Promise<FoldedPaths> {
  const unreadable = await catchUp(ctx);
  const ns = trackedNamespace(ctx);
  return {
    folded: foldedInOrder(ctx.state, ns, prefix),
    headsFor: (rel) => foldedPath(ctx.state, ns, rel),
    headsAmong: (rels) => foldedPathsAmong(ctx.state, ns, rels),
    soleHeadsAmong: (rels) => soleHeadsAmong(ctx.state, ns, rels),
    unreadable,
  };
}

/** What {@linkcode foldedPaths} gives. */
export interface FoldedPaths {
  folded: Iterable<FoldedEntry>;
  headsFor: HeadsLookup;
  /** {@linkcode headsFor} of a block of paths at once, in one query. */
  headsAmong: (rels: readonly string[]) => Map<string, PathHeads>;
  /** The kind and size of the one head of each of a block of paths that has one (`soleHeadsAmong`). */
  soleHeadsAmong: (rels: readonly string[]) => Map<string, SoleHead>;
  unreadable: TcfsError[];
}

/** Looks up heads for many paths: one catch-up, then no request per path. */
export type HeadsLookup = (rel: string) => PathHeads;

/**
 * Catches up once and returns a lookup of heads that costs no request.
 *
 * @example
 * ```ts
 * const headsFor = await headsLookup(ctx);
 * const { heads } = headsFor("docs/a.txt");
 * ```
 */
export async function headsLookup(ctx: SyncContext): Promise<HeadsLookup> {
  for (const err of await catchUp(ctx)) ctx.log?.("warning", err.message);
  const ns = trackedNamespace(ctx);
  return (rel) => foldedPath(ctx.state, ns, rel);
}
