/**
 * What a store holds after a fault, read the way a new device would: every
 * version in it, and whether each one can be restored byte for byte.
 *
 * @module
 */

import { join } from "node:path";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { restoreVersion } from "../../core/sync/file_restorer.ts";
import { storedVersion } from "../../core/journal/folded_versions.ts";
import type { StoredVersion } from "../../core/journal/stored_version.ts";
import { storeSegments } from "../support/journal_store.ts";

/**
 * Reads every version of the `default` namespace: all that every device's journal holds
 * (a version is never deleted when another supersedes it).
 *
 * @example
 * ```ts
 * const versions = await storedVersions(store);
 * ```
 */
export async function storedVersions(store: ObjectStore): Promise<StoredVersion[]> {
  const versions = (await storeSegments(store)).flatMap((segment) => segment.versions);
  return await Promise.all(versions.map((version) => storedVersion("default", version)));
}

/**
 * Restores every stored file version into `scratch` (checking every chunk and
 * the whole-file digest, as a pull does) and returns the SHA-256 of each, by
 * key. Throws when any version cannot be restored: a version names only
 * complete content.
 *
 * @example
 * ```ts
 * const digests = await restoreEveryVersion(store, await Deno.makeTempDir());
 * ```
 */
export async function restoreEveryVersion(
  store: ObjectStore,
  scratch: string,
): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const { key, version } of await storedVersions(store)) {
    if (version.kind !== "file") continue;
    const target = join(scratch, "restored");
    await restoreVersion(store, version, target, {
      within: scratch,
      counters: { chunksDownloaded: 0, bytesDownloaded: 0 },
    });
    digests.set(key, await fileSha256(target));
    await Deno.remove(target);
  }
  return digests;
}

/**
 * The hex SHA-256 of a file's bytes.
 *
 * @example
 * ```ts
 * assert.equal(await fileSha256(path), await sha256(expected));
 * ```
 */
export async function fileSha256(path: string): Promise<string> {
  return sha256(await Deno.readFile(path));
}

/**
 * The hex SHA-256 of `bytes`.
 *
 * @example
 * ```ts
 * const digest = await sha256(new TextEncoder().encode("x"));
 * ```
 */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
