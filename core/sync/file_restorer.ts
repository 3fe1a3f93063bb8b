/**
 * Materialises a version on disk: every chunk and the whole file are checked
 * (`verified_content.ts`) before anything replaces the local file, and the
 * replacement is atomic (temp file, made durable, rename, made durable: `restore_durability.ts`). A failure at
 * any point leaves the old file exactly as it was. When {@linkcode restoreVersion} returns,
 * the new entry is durable (new folders on the way too), so callers may record it.
 *
 * @module
 */

import { allZero } from "../io/zero_bytes.ts";
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
import { type CheckedFolders, inLinkFreeFolder } from "../paths/link_free_folder.ts";
import { TcfsError } from "../errors.ts";
import { crashPoint } from "../runtime/crash_point.ts";
import { ensureDurableDirectory } from "../io/durable_directory.ts";
import { type RestoreDurability, restoreDurability } from "../io/restore_durability.ts";
import { tempPathBeside } from "./temp_sweeper.ts";

/** Options for {@linkcode restoreVersion}. */
export interface RestoreOptions extends VerifiedReadOptions {
  /**
   * The folder the user named (sync root or pull target): it is created if missing, and every
   * folder between it and the target must be a real one (missing ones are created), never a
   * symlink, when the entry is written and when it is renamed into place.
   */
  within: string;
  onBytes?: (n: number) => void;
  /**
   * Called just before the rename; throwing aborts the replacement (used to
   * notice that the user edited the local file during the download).
   */
  beforeReplace?: () => Promise<void>;
  /** The folders this operation has checked so far (`link_free_folder.ts`), shared by its restores. */
  checkedFolders?: CheckedFolders;
}

/**
 * Writes `version` (a file or a symlink) to `target`. Returns the file's chunks
 * fingerprinted as they were written, for the next push of an edit to reuse.
 *
 * @example
 * ```ts
 * await restoreVersion(store, version, "/home/me/Sync/a.txt", { counters, within: "/home/me/Sync" });
 * ```
 */
export async function restoreVersion(
  store: ObjectStore,
  version: FileVersion,
  target: string,
  options: RestoreOptions,
): Promise<PrintedChunk[]> {
  const dir = dirname(target);
  const checked = options.checkedFolders;
  if (!checked?.has(options.within)) {
    await ensureDurableDirectory(options.within);
    checked?.add(options.within);
  }
  const temp = tempPathBeside(target);
  let created = false;
  let durability: RestoreDurability | undefined;
  try {
    let prints: PrintedChunk[] = [];
    if (version.kind === "symlink") {
      // A link is data: recreated exactly, wherever it points; nothing is written through it.
      await inLinkFreeFolder(options.within, dir, () => Deno.symlink(version.target!, temp), {
        create: true,
        checked,
        entry: temp,
      });
      created = true;
    } else {
      using file = await inLinkFreeFolder(
        options.within,
        dir,
        // Synchronous, as the rename below: these take microseconds, and run under the
        // process-wide lock, where an awaited call's hand-off to a thread would cost more.
        () => Promise.resolve(Deno.openSync(temp, { write: true, createNew: true, mode: 0o600 })),
        { create: true, checked, entry: temp },
      );
      created = true;
      durability = restoreDurability(dir);
      prints = await writeVerifiedFile(store, version, file, temp, options);
      await durability.fileWritten(file);
    }
    durability ??= restoreDurability(dir);
    await inLinkFreeFolder(options.within, dir, async () => {
      await options.beforeReplace?.();
      crashPoint("before-rename");
      try {
        Deno.renameSync(temp, target);
      } catch (err) {
        // A folder made meanwhile, e.g. by this pull for a file below the same name.
        if (!(err instanceof Deno.errors.IsADirectory)) throw err;
        throw new TcfsError(
          `${target} is a folder here but a ${version.kind} remotely; kept the folder`,
          {
            kind: "path_blocked",
            hint: "move what is in the folder elsewhere, then pull again",
            cause: err,
          },
        );
      }
    }, { checked, entry: target });
    created = false;
    await durability.entryChanged(dir);
    return prints;
  } catch (err) {
    // The temp's folder holds it, so no tcfs change can have made that folder a link since.
    if (created) await Deno.remove(temp).catch(() => {});
    if (err instanceof DamagedContentError) {
      throw new TcfsError(`${err.message}; the local file was left untouched`, {
        kind: err.kind,
        hint: err.hint,
        cause: err,
      });
    }
    throw err;
  } finally {
    durability?.[Symbol.dispose]();
  }
}

const SYNC_WRITE_BELOW_BYTES = 64 * 1024;

/** Zero runs shorter than a file system block are written: a hole could not save a block. */
const HOLE_MIN_BYTES = 4096;

async function writeVerifiedFile(
  store: ObjectStore,
  version: FileVersion,
  file: Deno.FsFile,
  temp: string,
  options: RestoreOptions,
): Promise<PrintedChunk[]> {
  const prints: PrintedChunk[] = [];
  let holes = false;
  await readVerifiedContent(store, version, options, async (bytes, ref) => {
    if (bytes.length >= HOLE_MIN_BYTES && allZero(bytes)) {
      // Left a hole: a sparse file (a disk image) stays sparse here too.
      file.seekSync(bytes.length, Deno.SeekMode.Current);
      holes = true;
    } else {
      for (let offset = 0; offset < bytes.length;) {
        const rest = bytes.subarray(offset);
        // A small write lands in the page cache in microseconds, less than an awaited write's
        // hand-off to a thread; large ones stay awaited, as the kernel may hold them back.
        offset += rest.length < SYNC_WRITE_BELOW_BYTES
          ? file.writeSync(rest)
          : await file.write(rest);
      }
    }
    options.onBytes?.(bytes.length);
    if (ref) prints.push({ ...ref, print: await xxh128Hex(bytes) });
  });
  // A hole at the end is made by the length alone.
  if (holes) file.truncateSync(version.size);
  // Metadata calls: synchronous ones cost a tenth of awaited ones (no hand-off to a thread).
  Deno.chmodSync(temp, restoredMode(version.mode));
  const mtime = new Date(version.mtime_ms);
  file.utimeSync(mtime, mtime);
  return prints;
}
