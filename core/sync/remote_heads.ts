/**
 * Reads what the store currently says about paths: every version of a path,
 * reduced to its heads (the versions no other version dominates). One head
 * means that is current; several mean a conflict.
 *
 * @module
 */

import { fileUnderStore } from "../state/store_filing.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import { createLimiter } from "../concurrency/limiter.ts";
import {
  cacheableVersionBody,
  type FileVersion,
  MAX_VERSION_BYTES,
  parseFileVersion,
} from "../remote/file_version.ts";
import {
  namespaceVersionsPrefix,
  parseVersionKey,
  pathDigest,
  pathVersionsPrefix,
} from "../remote/remote_keys.ts";
import { compareClocks } from "../vclock/vector_clock.ts";
import { TcfsError } from "../errors.ts";

/** A version together with the key it was read from. */
export interface StoredVersion {
  key: string;
  version: FileVersion;
}

/** The heads of one path, and the versions they dominate (safe to delete). */
export interface PathHeads {
  path: string;
  heads: StoredVersion[];
  dominated: StoredVersion[];
}

/** What reading a namespace produced: heads by path, and versions that could not be read. */
export interface NamespaceHeads {
  byPath: Map<string, PathHeads>;
  unreadable: TcfsError[];
}

/**
 * Options shared by the readers. `revoked` must be given, even as `undefined`: sync code
 * reads heads through `pathHeads` and `namespaceHeads` (sync_context.ts), which pass it.
 */
export interface HeadReaderOptions {
  /** Revoked devices (id → revoked_at): their versions written after that time are ignored. */
  revoked: ReadonlyMap<string, string> | undefined;
  concurrency?: number;
}

/**
 * Reads the heads of one path. Unreadable versions of that path are errors.
 *
 * @example
 * ```ts
 * const { heads } = await readPathHeads(store, state, "default", "docs/a.txt", { revoked });
 * ```
 */
export async function readPathHeads(
  store: ObjectStore,
  state: StateDb,
  namespace: string,
  rel: string,
  options: HeadReaderOptions,
): Promise<PathHeads> {
  const keys = await listKeys(store, await pathVersionsPrefix(namespace, rel));
  const { versions, unreadable } = await readVersions(store, state, keys, options);
  if (unreadable.length > 0) throw unreadable[0];
  return reduceToHeads(rel, versions.filter((v) => v.version.path === rel));
}

/**
 * Reads the heads of every path in a namespace (optionally only those
 * `wanted` accepts). Unreadable versions are collected, not thrown, so one
 * damaged object can't block the rest of a pull.
 *
 * @example
 * ```ts
 * const { byPath } = await readNamespaceHeads(store, state, "default", () => true, { revoked });
 * ```
 */
export async function readNamespaceHeads(
  store: ObjectStore,
  state: StateDb,
  namespace: string,
  wanted: (rel: string) => boolean,
  options: HeadReaderOptions,
): Promise<NamespaceHeads> {
  const prefix = namespaceVersionsPrefix(namespace);
  const keys = await listKeys(store, prefix);
  state.pruneVersionCache(
    versionCacheKey(store, prefix),
    new Set(keys.map((key) => versionCacheKey(store, key))),
  );
  const { versions, unreadable } = await readVersions(store, state, keys, options);
  const grouped = new Map<string, StoredVersion[]>();
  for (const stored of versions) {
    if (!wanted(stored.version.path)) continue;
    const list = grouped.get(stored.version.path) ?? [];
    list.push(stored);
    grouped.set(stored.version.path, list);
  }
  const byPath = new Map<string, PathHeads>();
  for (const [path, list] of grouped) byPath.set(path, reduceToHeads(path, list));
  return { byPath, unreadable };
}

/**
 * Keeps the maximal versions under vector-clock order. Exact clock
 * duplicates (only possible from a buggy writer) collapse to one.
 *
 * @example
 * ```ts
 * reduceToHeads("a.txt", [older, newer]).heads; // [newer]
 * ```
 */
export function reduceToHeads(path: string, versions: StoredVersion[]): PathHeads {
  const heads: StoredVersion[] = [];
  const dominated: StoredVersion[] = [];
  const sorted = [...versions].sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const candidate of sorted) {
    const beaten = sorted.some((other) => {
      const order = compareClocks(candidate.version.vclock, other.version.vclock);
      return order === "before" || (order === "equal" && other.key < candidate.key);
    });
    (beaten ? dominated : heads).push(candidate);
  }
  return { path, heads, dominated };
}

/**
 * Reads and checks one version from the store: `undefined` when it is gone.
 * Throws when it is unreadable or does not belong under its key.
 */
async function readVersion(store: ObjectStore, key: string): Promise<FileVersion | undefined> {
  const body = await store.get(key, { maxBytes: MAX_VERSION_BYTES });
  if (!body) return undefined;
  const version = parseFileVersion(body, key);
  const parts = parseVersionKey(key)!;
  if (version.author !== parts.device || await pathDigest(version.path) !== parts.digest) {
    throw new TcfsError(`version ${key} is unreadable: its path or author does not match its key`, {
      kind: "corrupt_version",
      hint: "the object was tampered with or misplaced; it is ignored",
    });
  }
  return version;
}

/**
 * The whole of a stored version: one read from the cache lacks its inline
 * content, which restoring the file needs.
 *
 * @example
 * ```ts
 * await restoreVersion(ctx.store, await completeVersion(ctx.store, head), target, options);
 * ```
 */
export async function completeVersion(
  store: ObjectStore,
  stored: StoredVersion,
): Promise<FileVersion> {
  if (!stored.version.inline_omitted) return stored.version;
  const version = await readVersion(store, stored.key);
  if (!version) {
    throw new TcfsError(`version ${stored.key} disappeared from the store while it was in use`, {
      kind: "missing_version",
      hint: "another device superseded it just now; run the command again",
    });
  }
  return version;
}

/**
 * The version cache's key for a version key in `store`. The same version key can
 * name different versions in two buckets (a device's counters start at 1 in each),
 * so cached bodies are filed under the store they came from.
 *
 * @example
 * ```ts
 * state.putCachedVersion(versionCacheKey(ctx.store, key), body);
 * ```
 */
export function versionCacheKey(store: ObjectStore, key: string): string {
  return fileUnderStore(store.location, key);
}

async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) {
    if (parseVersionKey(info.key)) keys.push(info.key);
  }
  return keys;
}

async function readVersions(
  store: ObjectStore,
  state: StateDb,
  keys: string[],
  options: HeadReaderOptions,
): Promise<{ versions: StoredVersion[]; unreadable: TcfsError[] }> {
  const limiter = createLimiter(options.concurrency ?? 32);
  const versions: StoredVersion[] = [];
  const unreadable: TcfsError[] = [];
  await Promise.all(keys.map((key) =>
    limiter.run(async () => {
      const parts = parseVersionKey(key)!;
      try {
        const cached = state.getCachedVersion(versionCacheKey(store, key));
        const version = cached
          ? parseFileVersion(cached, key, { fromCache: true })
          : await readVersion(store, key);
        if (!version) return; // deleted (dominated) between list and get
        if (!cached) {
          state.putCachedVersion(versionCacheKey(store, key), cacheableVersionBody(version));
        }
        const revokedAt = options.revoked?.get(parts.device);
        // written_at is the author's claim; see OPERATIONS.md on what revocation protects.
        if (revokedAt !== undefined && version.written_at > revokedAt) return;
        versions.push({ key, version });
      } catch (err) {
        if (
          err instanceof TcfsError && (err.kind === "corrupt_version" || err.kind === "unsafe_path")
        ) {
          unreadable.push(err);
        } else throw err;
      }
    })
  ));
  return { versions, unreadable };
}
