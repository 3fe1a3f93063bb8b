/**
 * Versions in the layout before the journal: one object per version under
 * `ns/<namespace>/v/<path-digest>/<author>-<n>.json`. A namespace's upgrade
 * (`journal_marker.ts`) reads them all once; afterwards only a device still running an older
 * tcfs writes there, and catch-up folds what it wrote (`journal_catch_up.ts`).
 *
 * @module
 */

import { fileUnderStore } from "../state/store_filing.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "../state/state_db.ts";
import { createLimiter } from "../concurrency/limiter.ts";
import { type FileVersion, MAX_VERSION_BYTES, parseFileVersion } from "../remote/file_version.ts";
import { namespaceVersionsPrefix, parseVersionKey, pathDigest } from "../remote/remote_keys.ts";
import { TcfsError } from "../errors.ts";
import type { StoredVersion } from "./stored_version.ts";

/**
 * The path digest of the fence: the object an upgrade leaves in the old layout so that an
 * older tcfs reading it stops with a message naming the release it needs. No path hashes
 * to it in practice, and readers of the old layout here skip it.
 */
export const FENCE_DIGEST = "0".repeat(32);

/**
 * Keys of the versions in the old layout (the fence left out).
 *
 * @example
 * ```ts
 * const keys = await legacyVersionKeys(store, "default");
 * ```
 */
export async function legacyVersionKeys(store: ObjectStore, namespace: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(namespaceVersionsPrefix(namespace))) {
    const parts = parseVersionKey(info.key);
    if (parts && parts.digest !== FENCE_DIGEST) keys.push(info.key);
  }
  return keys;
}

/**
 * Reads old-layout versions not marked read before (by this state, from this store; see
 * {@linkcode markLegacyRead}), each checked against its key. Unreadable ones are collected, not
 * thrown: one damaged object must not block the rest.
 *
 * @example
 * ```ts
 * const { versions, unreadable } = await readLegacyVersions(store, state, keys);
 * ```
 */
export async function readLegacyVersions(
  store: ObjectStore,
  state: StateDb,
  keys: readonly string[],
): Promise<{ versions: StoredVersion[]; unreadable: TcfsError[] }> {
  const limiter = createLimiter(32);
  const versions: StoredVersion[] = [];
  const unreadable: TcfsError[] = [];
  await Promise.all(keys.map((key) =>
    limiter.run(async () => {
      const cacheKey = fileUnderStore(store.location, key);
      if (state.getCachedVersion(cacheKey)) return;
      try {
        const version = await readVersion(store, key);
        if (!version) return; // deleted between list and get
        versions.push({ key, version });
      } catch (err) {
        if (err instanceof TcfsError && UNREADABLE_KINDS.has(err.kind)) {
          unreadable.push(err);
        } else throw err;
      }
    })
  ));
  return { versions, unreadable };
}

/** What makes one old-layout object unreadable without stopping the others. */
const UNREADABLE_KINDS = new Set(["corrupt_version", "unsafe_path", "oversized_object"]);

/**
 * Marks old-layout versions as read, once they are folded in: a catch-up that lists them again
 * costs no request.
 *
 * @example
 * ```ts
 * foldIn(state, ns, versions);
 * markLegacyRead(store, state, versions.map((v) => v.key));
 * ```
 */
export function markLegacyRead(store: ObjectStore, state: StateDb, keys: readonly string[]): void {
  for (const key of keys) state.putCachedVersion(fileUnderStore(store.location, key), MARK);
}

const MARK = new Uint8Array([1]);

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
