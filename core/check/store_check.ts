/**
 * `tcfs check`: does every head under a prefix still have its content? Like `restic check`,
 * in two depths. By default, one listing of `packs/` and `chunks/` gives every object's size,
 * and each chunk a head names must lie inside an object that exists; no request per chunk.
 * With `readData`, every file head is read back with each chunk and the file digest checked,
 * as a pull would (`verified_content.ts`), which finds a flipped byte.
 *
 * @module
 */

import type { ChunkRef } from "../remote/file_version.ts";
import { contentObjectKey, contentObjectSizes } from "../remote/content_objects.ts";
import { isUnderRel } from "../paths/remote_path.ts";
import { namespaceHeads, remoteDisplayPath, type SyncContext } from "../sync/sync_context.ts";
import {
  DamagedContentError,
  type DownloadCounters,
  readVerifiedContent,
} from "../sync/verified_content.ts";
import type { ChunkHasher } from "../hashing/chunk_hasher.ts";

/** One thing wrong with one head. */
export interface CheckProblem {
  /** The path in the namespace. */
  path: string;
  /** `<bucket>/<namespace>/<path>`, as `tcfs ls` shows it. */
  remote: string;
  /** The version's store key; empty for a version that could not be read at all. */
  version: string;
  /** `packs/<id>` or `chunks/<id>`, when one object is to blame. */
  object?: string;
  /** The first chunk affected. */
  chunk?: string;
  why: string;
}

/** What {@linkcode checkStore} found. */
export interface StoreCheckResult {
  /** File heads whose content was checked. */
  versions_checked: number;
  /** Distinct packs and stand-alone chunks those heads name. */
  objects_checked: number;
  /** Stored bytes read back (only with `readData`). */
  bytes_read: number;
  problems: CheckProblem[];
}

/** Options for {@linkcode checkStore}. */
export interface StoreCheckOptions {
  /** Only paths under this one (`""`: the whole namespace). */
  prefix: string;
  /** Read every chunk back and check it, not only that its object exists. */
  readData?: boolean;
  /** Hashes chunks off the main thread for `readData`. */
  hasher?: ChunkHasher;
}

/**
 * Checks the content of every head under `options.prefix` in `ctx`'s namespace.
 *
 * @example
 * ```ts
 * const result = await checkStore(ctx, { prefix: "lab", readData: true });
 * for (const p of result.problems) console.log(p.remote, p.why);
 * ```
 */
export async function checkStore(
  ctx: SyncContext,
  options: StoreCheckOptions,
): Promise<StoreCheckResult> {
  const { byPath, unreadable } = await namespaceHeads(
    ctx,
    (rel) => isUnderRel(rel, options.prefix),
  );
  const problems: CheckProblem[] = unreadable.map((err) => ({
    path: "",
    remote: "",
    version: "",
    why: `unreadable version: ${err.message}`,
  }));
  const sizes = await contentObjectSizes(ctx.store);
  const objects = new Set<string>();
  const counters: DownloadCounters = { chunksDownloaded: 0, bytesDownloaded: 0 };
  let versionsChecked = 0;
  const paths = [...byPath.keys()].sort();
  for (const path of paths) {
    for (const head of byPath.get(path)!.heads) {
      if (head.version.kind !== "file") continue;
      versionsChecked++;
      const problem = (damage: Omit<CheckProblem, "path" | "remote" | "version">) =>
        problems.push({
          path,
          remote: remoteDisplayPath(ctx, path),
          version: head.key,
          ...damage,
        });
      const missing = head.version.chunks.map((ref) => placementProblem(ref, sizes, objects))
        .find((found) => found !== undefined);
      if (missing) {
        problem(missing);
        continue;
      }
      if (!options.readData) continue;
      try {
        await readVerifiedContent(
          ctx.store,
          head.version,
          { counters, hasher: options.hasher, keys: ctx.keys },
          () => Promise.resolve(),
        );
      } catch (err) {
        if (!(err instanceof DamagedContentError)) throw err;
        problem(err.damage);
      }
    }
  }
  return {
    versions_checked: versionsChecked,
    objects_checked: objects.size,
    bytes_read: counters.bytesDownloaded,
    problems,
  };
}

/** Every pack's and stand-alone chunk's size, from one listing of each prefix. */
/** Why `ref` cannot be read from what the listing shows, if it cannot. */
function placementProblem(
  ref: ChunkRef,
  sizes: ReadonlyMap<string, number>,
  objects: Set<string>,
): Omit<CheckProblem, "path" | "remote" | "version"> | undefined {
  const object = contentObjectKey(ref);
  objects.add(object);
  const size = sizes.get(object);
  if (size === undefined) return { object, chunk: ref.id, why: "missing from the store" };
  if (ref.pack !== undefined && ref.offset! + ref.length! > size) {
    return {
      object,
      chunk: ref.id,
      why: `the chunk lies at ${ref.offset}+${ref.length}, past the pack's end (${size} bytes)`,
    };
  }
  return undefined;
}
