/**
 * Everything a sync operation needs to know about where it runs.
 *
 * @module
 */

import { fileUnderStore } from "../state/store_filing.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import type { StoredVersion } from "./remote_heads.ts";
import {
  type NamespaceHeads,
  type PathHeads,
  readNamespaceHeads,
  readPathHeads,
} from "./remote_heads.ts";
import { isUnderRel } from "../paths/remote_path.ts";
import type { ConflictMode, LinkMode } from "../config/config_schema.ts";
import { checkStoreIdentity } from "../state/store_identity.ts";

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
  /** Revoked devices (id → revoked_at): their later versions are ignored. */
  revoked?: ReadonlyMap<string, string>;
  /** Files processed at once. */
  fileConcurrency?: number;
  /** How conflicts are handled; `interactive` (queue, decide later) when unset. */
  conflictMode?: ConflictMode;
  /** Conflict copies kept per path (newest first); 10 when unset. */
  maxConflicts?: number;
  /** Whether symlinks are pushed and pulled; `keep` when unset. */
  links?: LinkMode;
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
  return [ctx.bucket, ctx.namespace, rel].filter((p) => p !== "").join("/");
}

/**
 * The heads of one path as this context sees them: revoked devices' later versions left out.
 * Every reader of heads goes through this or {@linkcode namespaceHeads}, so none can forget
 * revocation.
 *
 * @example
 * ```ts
 * const { heads } = await pathHeads(ctx, "docs/a.txt");
 * ```
 */
export function pathHeads(ctx: SyncContext, rel: string): Promise<PathHeads> {
  return readPathHeads(ctx.store, ctx.state, ctx.namespace, rel, { revoked: ctx.revoked });
}

/**
 * The heads of every path of the context's namespace that `wanted` accepts, revoked
 * devices' later versions left out; unreadable versions are collected, not thrown.
 *
 * @example
 * ```ts
 * const { byPath } = await namespaceHeads(ctx, (rel) => isUnderRel(rel, "docs"));
 * ```
 */
export function namespaceHeads(
  ctx: SyncContext,
  wanted: (rel: string) => boolean,
): Promise<NamespaceHeads> {
  return readNamespaceHeads(ctx.store, ctx.state, ctx.namespace, wanted, {
    revoked: ctx.revoked,
  });
}

/** Looks up heads for many paths with as few requests as the count allows. */
export type HeadsLookup = (rel: string) => Promise<PathHeads>;

/** Past this many paths one namespace listing is cheaper than a listing per path. */
const BULK_LISTING_THRESHOLD = 32;

/**
 * Returns a lookup for the heads of paths below `prefix`: a per-path listing
 * for a few paths, one namespace listing for many.
 *
 * @example
 * ```ts
 * const headsFor = await headsLookup(ctx, "docs", changed.length);
 * const { heads } = await headsFor("docs/a.txt");
 * ```
 */
export async function headsLookup(
  ctx: SyncContext,
  prefix: string,
  pathCount: number,
): Promise<HeadsLookup> {
  if (pathCount <= BULK_LISTING_THRESHOLD) return (rel) => pathHeads(ctx, rel);
  const { byPath } = await namespaceHeads(ctx, (rel) => isUnderRel(rel, prefix));
  const empty = (rel: string): PathHeads => ({ path: rel, heads: [], dominated: [] });
  return (rel) => Promise.resolve(byPath.get(rel) ?? empty(rel));
}

/** All heads' clocks, for merging into a new version's clock. */
export function headClocks(heads: StoredVersion[]) {
  return heads.map((h) => h.version.vclock);
}
