/**
 * How a restored file, then its rename, become durable. Without help from the platform: an
 * fsync of the file, then one of its folder (shared by the restores into that folder). Where
 * the platform offers a flush of a whole filesystem (Linux's syncfs(2), given at start-up by
 * {@linkcode useFilesystemFlusher}), both are flushes of the filesystem, shared by every restore
 * waiting for one: a pull of 10,000 small files made some 11,000 fsyncs, each a journal commit,
 * which cost it 0.24 ms of CPU per file and half its time.
 *
 * A flush reports the write errors met since its handle was opened, so a restore takes its
 * handle before it writes a byte, and the handle stays open while any restore holds it (and
 * no longer: an open handle would keep a removable drive from being unmounted).
 *
 * @module
 */

import { syncDirectory } from "./durable_directory.ts";
import { coalescedRuns } from "./coalesced_runs.ts";

/** A handle on one filesystem, from {@linkcode FilesystemFlusher.open}. */
export interface FilesystemHandle {
  /** Makes everything written to the filesystem so far durable; rejects on a write error since the handle opened. */
  flush(): Promise<void>;
  close(): void;
}

/** What the platform offers: handles on the filesystem holding a folder. */
export interface FilesystemFlusher {
  /** Opens a handle on the filesystem that holds `dir`. */
  open(dir: string): FilesystemHandle;
}

let flusher: FilesystemFlusher | undefined;

/**
 * Makes restores use `given` (undefined: an fsync per file and folder again). Called once at
 * start-up by the entry point, which knows the platform.
 *
 * @example
 * ```ts
 * useFilesystemFlusher(Deno.build.os === "linux" ? linuxSyncfs() : undefined);
 * ```
 */
export function useFilesystemFlusher(given: FilesystemFlusher | undefined): void {
  flusher = given;
}

/** One restore's two points of durability; dispose of it when the restore ends. */
export interface RestoreDurability extends Disposable {
  /** The file's bytes and attributes, before its rename. */
  fileWritten(file: Deno.FsFile): Promise<void>;
  /** The rename into place in `dir`. */
  entryChanged(dir: string): Promise<void>;
}

/**
 * Starts a restore into `dir` (which exists): call it before writing the file.
 *
 * @example
 * ```ts
 * using durability = restoreDurability(dir);
 * await write(file);
 * await durability.fileWritten(file);
 * Deno.renameSync(temp, target);
 * await durability.entryChanged(dir);
 * ```
 */
export function restoreDurability(dir: string): RestoreDurability {
  if (!flusher) {
    return {
      fileWritten: (file) => file.sync(),
      entryChanged: (changed) => syncDirectory(changed),
      [Symbol.dispose]() {},
    };
  }
  const dev = String(Deno.statSync(dir).dev);
  let held = heldHandles.get(dev);
  if (!held) {
    held = { handle: flusher.open(dir), users: 0, key: `${dev}#${++opened}` };
    heldHandles.set(dev, held);
  }
  held.users++;
  const { handle, key } = held;
  // Waiting restores share a flush through one handle, so each is told of the errors since
  // its own handle opened.
  const flush = () => flushes(key, () => handle.flush());
  let released = false;
  return {
    fileWritten: flush,
    entryChanged: flush,
    [Symbol.dispose]() {
      if (released) return;
      released = true;
      // The last user has seen its flushes settle: none can be under way on this handle.
      if (--held.users > 0) return;
      heldHandles.delete(dev);
      handle.close();
    },
  };
}

/** The open handle of each filesystem (by device number), how many restores hold it, its key. */
const heldHandles = new Map<string, { handle: FilesystemHandle; users: number; key: string }>();
/** Handles opened so far, to tell a filesystem's successive handles apart. */
let opened = 0;
/** Restores waiting together share one flush. */
const flushes = coalescedRuns();
