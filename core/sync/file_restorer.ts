/**
 * Materialises a version on disk: every chunk and the whole file are checked
 * (`verified_content.ts`) before anything replaces the local file, and the
 * replacement is atomic (temp file, fsync, rename, fsync of the directory). A failure at
 * any point leaves the old file exactly as it was. When {@linkcode restoreVersion} returns,
 * the new entry is durable (new folders on the way too), so callers may record it.
 *
 * @module
 */

import { dirname } from "node:path";
import type { ObjectStore } from "../store/object_store.ts";
import type { FileVersion } from "../remote/file_version.ts";
import { xxh128Hex } from "../hashing/xxh128.ts";
import type { PrintedChunk } from "./edit_chunker.ts";
import {
  DamagedContentError,
  readVerifiedContent,
  type VerifiedReadOptions,
} from "./verified_content.ts";
import { restoredMode } from "./restored_mode.ts";
import { assertLinkTargetInside } from "../paths/confined_path.ts";
import { TcfsError } from "../errors.ts";
import { crashPoint } from "../runtime/crash_point.ts";
import { ensureDurableDirectory, syncDirectory } from "../io/durable_directory.ts";
import { tempPathBeside } from "./temp_sweeper.ts";

/** Options for {@linkcode restoreVersion}. */
export interface RestoreOptions extends VerifiedReadOptions {
  onBytes?: (n: number) => void;
  /**
   * Called just before the rename; throwing aborts the replacement (used to
   * notice that the user edited the local file during the download).
   */
  beforeReplace?: () => Promise<void>;
}

/**
 * Writes `version` (a file or a symlink) to `target`. Returns the file's chunks
 * fingerprinted as they were written, for the next push of an edit to reuse.
 *
 * @example
 * ```ts
 * await restoreVersion(store, version, "/home/me/Sync/a.txt", { counters });
 * ```
 */
export async function restoreVersion(
  store: ObjectStore,
  version: FileVersion,
  target: string,
  options: RestoreOptions,
): Promise<PrintedChunk[]> {
  await ensureDurableDirectory(dirname(target));
  const temp = tempPathBeside(target);
  try {
    let prints: PrintedChunk[] = [];
    if (version.kind === "symlink") {
      assertLinkTargetInside(version.path, version.target!);
      await Deno.symlink(version.target!, temp);
    } else {
      prints = await writeVerifiedFile(store, version, temp, options);
    }
    await options.beforeReplace?.();
    crashPoint("before-rename");
    await Deno.rename(temp, target);
    await syncDirectory(dirname(target));
    return prints;
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    if (err instanceof DamagedContentError) {
      throw new TcfsError(`${err.message}; the local file was left untouched`, {
        kind: err.kind,
        hint: err.hint,
        cause: err,
      });
    }
    throw err;
  }
}

async function writeVerifiedFile(
  store: ObjectStore,
  version: FileVersion,
  temp: string,
  options: RestoreOptions,
): Promise<PrintedChunk[]> {
  using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  const prints: PrintedChunk[] = [];
  await readVerifiedContent(store, version, options, async (bytes, ref) => {
    for (let offset = 0; offset < bytes.length;) {
      offset += await file.write(bytes.subarray(offset));
    }
    options.onBytes?.(bytes.length);
    if (ref) prints.push({ ...ref, print: await xxh128Hex(bytes) });
  });
  await file.sync();
  await Deno.chmod(temp, restoredMode(version.mode));
  const mtime = new Date(version.mtime_ms);
  await file.utime(mtime, mtime);
  return prints;
}
