/**
 * How restored files, then their renames, become durable. Restores are made in batches (a
 * pull's window of files, or a single file): every file of a batch is written beside its
 * target, the lot is made durable, every file is renamed into place, and the renames are made
 * durable, before any of them is recorded as synced.
 *
 * Where the platform offers a flush of a whole filesystem (Linux's syncfs(2), given at start-up
 * by {@linkcode useFilesystemFlusher}), each of those two points is one flush of each
 * filesystem the batch wrote to. A flush costs a journal commit however little it carries: a
 * pull of 5,600 files that flushed per file, four restores sharing each flush, spent 3.9 s in
 * 1,390 of them. Without help from the platform, each file is fsynced, then each folder that
 * gained an entry.
 *
 * A flush reports the write errors met since its handle was opened, so a batch takes its
 * handle before it writes a byte, and the handle stays open while any batch holds it (and no
 * longer: an open handle would keep a removable drive from being unmounted). Batches (of one
 * pull, of two roots pulling at once in the daemon, of a history restore) share a filesystem's
 * handle, and an error reported through it fails every batch holding it.
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

/** The points of durability of restores made together; dispose of it when they end. */
export interface RestoreBatch extends Disposable {
  /** Before anything is written into `dir` (which exists) for a restore of the batch. */
  changing(dir: string): void;
  /** A file's bytes and attributes are written. */
  fileWritten(file: Deno.FsFile): Promise<void>;
  /** Every file written so far is durable: call it before their renames. */
  filesDurable(): Promise<void>;
  /** `dir` gained or lost an entry (a rename into it). */
  entryChanged(dir: string): void;
  /**
   * A folder was made in `parent` for a restore of the batch, and is made durable there before
   * any other restore may find it: at once with an fsync of `parent`, or with the batch's
   * flushes of the whole filesystem, which cover whatever another restore puts in it.
   */
  folderCreated(parent: string): Promise<void>;
  /** Every entry changed so far is durable: call it before recording the restores. */
  entriesDurable(): Promise<void>;
}

/**
 * Starts a batch of restores.
 *
 * @example
 * ```ts
 * using batch = restoreBatch();
 * batch.changing(dir);
 * await write(file);
 * await batch.fileWritten(file);
 * await batch.filesDurable();
 * Deno.renameSync(temp, target);
 * batch.entryChanged(dir);
 * await batch.entriesDurable();
 * ```
 */
export function restoreBatch(): RestoreBatch {
  return flusher ? flushedBatch(flusher) : fsyncedBatch();
}

/** Each file fsynced once written, each folder that gained an entry fsynced at the end. */
function fsyncedBatch(): RestoreBatch {
  const changed = new Set<string>();
  return {
    changing() {},
    fileWritten: (file) => file.sync(),
    filesDurable: () => Promise.resolve(),
    entryChanged: (dir) => void changed.add(dir),
    folderCreated: syncDirectory,
    async entriesDurable() {
      const dirs = [...changed];
      changed.clear();
      await Promise.all(dirs.map(syncDirectory));
    },
    [Symbol.dispose]() {},
  };
}

/** One flush of each filesystem the batch changed, at each of its two points. */
function flushedBatch(given: FilesystemFlusher): RestoreBatch {
  /** The handles this batch holds, by device number. */
  const held = new Map<string, HeldHandle>();
  /** The device of each folder seen: a window's files share a few folders. */
  const devices = new Map<string, string>();
  const holder: Holder = {};
  const hold = (dir: string) => {
    let dev = devices.get(dir);
    if (dev === undefined) {
      dev = String(Deno.statSync(dir).dev);
      devices.set(dir, dev);
    }
    if (held.has(dev)) return;
    let handle = heldHandles.get(dev);
    if (!handle) {
      handle = { handle: given.open(dir), holders: new Set(), key: `${dev}#${++opened}` };
      heldHandles.set(dev, handle);
    }
    handle.holders.add(holder);
    held.set(dev, handle);
  };
  // Batches waiting together share a flush through one handle, so each is told of the errors
  // since its own handle opened.
  const flushAll = async () => {
    if (holder.failure) throw holder.failure;
    // Every flush settles before this returns: the batch may be disposed of next, which closes
    // the handles, and a flush of another filesystem would still be under way on its own. A
    // failed one is kept by every batch holding its handle (`flush`), this one among them.
    await Promise.allSettled(
      [...held.values()].map((shared) => flushes(shared.key, () => flush(shared))),
    );
    if (holder.failure) throw holder.failure;
  };
  return {
    changing: hold,
    fileWritten: () => Promise.resolve(),
    filesDurable: flushAll,
    entryChanged: hold,
    folderCreated: (parent) => Promise.resolve(hold(parent)),
    entriesDurable: flushAll,
    [Symbol.dispose]() {
      for (const [dev, handle] of held) {
        handle.holders.delete(holder);
        // The last holder has seen its flushes settle: none can be under way on this handle.
        if (handle.holders.size > 0) continue;
        heldHandles.delete(dev);
        handle.handle.close();
      }
      held.clear();
    },
  };
}

/**
 * Flushes a shared handle. The kernel reports a write error to the first flush through the
 * handle after it, and to no later one, so a failure is kept by every batch holding the handle
 * then: any of them may have written the bytes that failed, and a later flush of theirs would
 * pass.
 */
async function flush(shared: HeldHandle): Promise<void> {
  try {
    await shared.handle.flush();
  } catch (err) {
    for (const holder of shared.holders) holder.failure ??= err;
    throw err;
  }
}

/** A batch holding shared handles, and the first write error reported to it through them. */
interface Holder {
  failure?: unknown;
}

/** An open handle on a filesystem, the batches holding it, and its key for shared flushes. */
interface HeldHandle {
  handle: FilesystemHandle;
  holders: Set<Holder>;
  key: string;
}

/** The open handle of each filesystem, by device number. */
const heldHandles = new Map<string, HeldHandle>();
/** Handles opened so far, to tell a filesystem's successive handles apart. */
let opened = 0;
/** Batches waiting together share one flush. */
const flushes = coalescedRuns();
