/**
 * Pinned paths (`tcfs pin`): remote files and folders whose chunks the chunk cache always
 * holds (whatever its bound), so they read offline. Kept as JSON next to the cache (`$XDG_CACHE_HOME/tcfs/pins.json`),
 * by namespace and path; a pinned folder covers what is added to it later.
 *
 * @module
 */

import { join } from "node:path";
import { isUnderRel } from "../paths/remote_path.ts";
import type { FileVersion } from "../remote/file_version.ts";
import type { PathHeads } from "../journal/stored_version.ts";
import { newestHead } from "../sync/remote_listing.ts";
import { describeError } from "../errors.ts";
import type { RangeReader } from "./range_reader.ts";

/** One pin: a path below a namespace ("" for all of it). */
export interface Pin {
  namespace: string;
  rel: string;
}

/**
 * The pins file below the cache directory (`$XDG_CACHE_HOME/tcfs`).
 *
 * @example
 * ```ts
 * const pins = await readPins(pinsFile(config.paths.cacheDir));
 * ```
 */
export function pinsFile(cacheDir: string): string {
  return join(cacheDir, "pins.json");
}

/**
 * The pins recorded in `file` (none when it is missing).
 *
 * @example
 * ```ts
 * const pins = await readPins(pinsFile(config.paths.cacheDir));
 * ```
 */
export async function readPins(file: string): Promise<Pin[]> {
  try {
    const value = JSON.parse(await Deno.readTextFile(file));
    return Array.isArray(value)
      ? value.filter((p): p is Pin =>
        typeof p?.namespace === "string" && typeof p?.rel === "string"
      )
      : [];
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/**
 * Adds (`pinned` true) or removes a pin; returns whether anything changed.
 *
 * @example
 * ```ts
 * await setPin(pinsFile(cacheDir), { namespace: "default", rel: "papers" }, true);
 * ```
 */
export async function setPin(file: string, pin: Pin, pinned: boolean): Promise<boolean> {
  const pins = await readPins(file);
  const same = (p: Pin) => p.namespace === pin.namespace && p.rel === pin.rel;
  const known = pins.some(same);
  if (known === pinned) return false;
  const next = pinned ? [...pins, pin] : pins.filter((p) => !same(p));
  next.sort((a, b) => `${a.namespace}/${a.rel}` < `${b.namespace}/${b.rel}` ? -1 : 1);
  const temp = `${file}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(next, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(temp, file);
  return true;
}

/**
 * Whether `rel` of `namespace` is pinned by one of `pins`.
 *
 * @example
 * ```ts
 * isPinned(pins, "default", "papers/a.pdf");
 * ```
 */
export function isPinned(pins: readonly Pin[], namespace: string, rel: string): boolean {
  return pins.some((p) => p.namespace === namespace && isUnderRel(rel, p.rel));
}

/** The content pins hold now: the files' current versions and their chunks. */
export interface PinnedContent {
  files: FileVersion[];
  /** Chunk ids the cache must keep. */
  chunkIds: Set<string>;
  bytes: number;
}

/**
 * The live files of `namespace` under `pins`, from their heads (the version a mount shows).
 *
 * @example
 * ```ts
 * const { byPath } = await namespaceHeads(ctx, () => true);
 * const pinned = pinnedContent(byPath.values(), ctx.namespace, pins);
 * ```
 */
export function pinnedContent(
  paths: Iterable<PathHeads>,
  namespace: string,
  pins: readonly Pin[],
): PinnedContent {
  const pinned: PinnedContent = { files: [], chunkIds: new Set(), bytes: 0 };
  if (!pins.some((p) => p.namespace === namespace)) return pinned;
  for (const { path, heads } of paths) {
    const { version } = newestHead(heads);
    if (version.kind !== "file" || !isPinned(pins, namespace, path)) continue;
    pinned.files.push(version);
    pinned.bytes += version.size;
    for (const ref of version.chunks) pinned.chunkIds.add(ref.id);
  }
  return pinned;
}

/** Bytes hydrated at a time: memory stays bounded whatever the file's size. */
const HYDRATE_STEP_BYTES = 8 * 1024 * 1024;

/**
 * Reads `files` whole through `reader`, so every chunk is in its cache; returns the files that
 * could not be read (the store down, damaged content), each with why.
 *
 * @example
 * ```ts
 * const failed = await hydrate(reader, pinned.files);
 * ```
 */
export async function hydrate(
  reader: RangeReader,
  files: readonly FileVersion[],
): Promise<{ path: string; error: string }[]> {
  const failed: { path: string; error: string }[] = [];
  for (const version of files) {
    try {
      for (let at = 0; at < version.size; at += HYDRATE_STEP_BYTES) {
        await reader.read(version, at, HYDRATE_STEP_BYTES);
      }
    } catch (err) {
      failed.push({ path: version.path, error: describeError(err) });
    }
  }
  return failed;
}
