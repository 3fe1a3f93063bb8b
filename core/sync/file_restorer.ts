/**
 * Materialises a version on disk: every chunk and the whole file are checked
 * (`verified_content.ts`) before anything replaces the local file, and the
 * replacement is atomic (temp file, made durable, rename, made durable: `restore_durability.ts`).
 * A failure at any point leaves the old file exactly as it was. Stages: {@linkcode stageVersion}
 * writes the new content beside the target, {@linkcode replaceWithStaged} renames it into place;
 * a pull runs each stage over a batch of files, with one flush after each.
 * {@linkcode restoreVersion} is both, for one file. Once the batch's entries are durable (new
 * folders on the way too), callers may record the restores.
 *
 * @module
 */

import { allZero } from "../io/zero_bytes.ts";
import { dirname } from "node:path";
import type { ObjectStore } from "../store/object_store.ts";
import type { FileVersion } from "../remote/file_version.ts";
import { xxh128Hex } from "../hashing/xxh128.ts";
import { MIN_PRINTED_CHUNKS } from "../state/chunk_prints.ts";
import type { PrintedChunk } from "./edit_chunker.ts";
import {
  DamagedContentError,
  readVerifiedContent,
  type VerifiedReadOptions,
} from "./verified_content.ts";
import { restoredMode } from "./restored_mode.ts";
import { type CheckedFolders, inLinkFreeFolder } from "../paths/link_free_folder.ts";
import { BUG_HINT, TcfsError } from "../errors.ts";
import { entryOf, type LocalEntry } from "./local_scanner.ts";
import { crashPoint } from "../runtime/crash_point.ts";
import { ensureDurableDirectory } from "../io/durable_directory.ts";
import { type RestoreBatch, restoreBatch } from "../io/restore_durability.ts";
import { tempPathBeside } from "./temp_sweeper.ts";
import { lstatIfPresent } from "../io/lstat_if_present.ts";

/** Options for {@linkcode restoreVersion}. */
export interface RestoreOptions extends VerifiedReadOptions {
  /**
   * The folder the user named (sync root or pull target): it is created if missing, and every
   * folder between it and the target must be a real one (missing ones are created), never a
   * symlink, when the entry is written and when it is renamed into place.
   */
  within: string;
  onBytes?: (n: number) => void;
  /** The folders this operation has checked so far (`link_free_folder.ts`), shared by its restores. */
  checkedFolders?: CheckedFolders;
}

/** Checks made right before a staged version replaces its target. */
export interface ReplaceOptions {
  /** As in {@linkcode RestoreOptions}. */
  within: string;
  checkedFolders?: CheckedFolders;
  /**
   * Called just before the rename; throwing aborts the replacement (used to
   * notice that the user edited the local file during the download).
   */
  beforeReplace?: () => Promise<void>;
  /**
   * Set when nothing was at the target as planned: the error to throw if something is there
   * now. A file is then placed with `link`, which fails when the name is taken, so nothing
   * saved there meanwhile is replaced (between a check and a rename, it could be), and no
   * `lstat` is made. A filesystem without hard links gets the check and the rename.
   */
  ifAbsent?: () => Error;
}

/** A version written beside its target, checked and ready to take its place. */
export interface StagedVersion {
  /** What it is: a file or a symlink. */
  kind: FileVersion["kind"];
  /** Where it was written, in the target's folder. */
  temp: string;
  /** The place it takes. */
  target: string;
  /**
   * The file's chunks, fingerprinted as they were written, for the next push of an edit to
   * reuse; none for a file of one chunk, which an edit never reuses (`chunk_prints.ts`).
   */
  prints: PrintedChunk[];
  /**
   * Its own stat once complete, taken no earlier than `statAtMs`: what the state db records for
   * it in place (a rename keeps its inode, size, mode and times). A stat taken when it is
   * recorded could be of an edit saved after the rename, which would then pass for the version
   * pulled and never be pushed.
   */
  stat: Deno.FileInfo;
  statAtMs: number;
}

/**
 * The local entry `staged` (of `version`, synced as `rel`) is at its target, as it was written:
 * what to record once it is in place, whatever was saved over it since.
 *
 * @example
 * ```ts
 * const staged = await restoreVersion(store, head.version, localPath, { counters, within });
 * adopt(ctx, writtenEntry(staged, rel, head.version), head);
 * ```
 */
export function writtenEntry(staged: StagedVersion, rel: string, version: FileVersion): LocalEntry {
  const entry = entryOf(staged.stat, rel, staged.target, version.target, staged.statAtMs);
  if (!entry) {
    throw new TcfsError(`${staged.target}: what was written is no ${staged.kind}`, {
      hint: BUG_HINT,
    });
  }
  return entry;
}

/**
 * Writes `version` (a file or a symlink) to `target`, and returns once it is there and durable.
 * Returns what was written, now at `target`: its chunks fingerprinted as they were written, for
 * the next push of an edit to reuse, and its stat ({@linkcode writtenEntry}).
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
  options: RestoreOptions & ReplaceOptions,
): Promise<StagedVersion> {
  using batch = restoreBatch();
  const staged = await stageVersion(store, version, target, options, batch);
  try {
    await batch.filesDurable();
  } catch (err) {
    await discardStaged(staged);
    throw err;
  }
  await replaceWithStaged(staged, options, batch);
  await batch.entriesDurable();
  return staged;
}

/**
 * Writes `version` beside `target` (every chunk and the whole file checked) as part of `batch`,
 * leaving `target` as it is. The batch's files are durable once `batch.filesDurable()` settles;
 * then {@linkcode replaceWithStaged} puts each in place, or {@linkcode discardStaged} drops it.
 *
 * @example
 * ```ts
 * using batch = restoreBatch();
 * const staged = await stageVersion(store, version, target, { counters, within }, batch);
 * await batch.filesDurable();
 * await replaceWithStaged(staged, { within }, batch);
 * await batch.entriesDurable();
 * ```
 */
export async function stageVersion(
  store: ObjectStore,
  version: FileVersion,
  target: string,
  options: RestoreOptions,
  batch: RestoreBatch,
): Promise<StagedVersion> {
  const dir = dirname(target);
  const checked = options.checkedFolders;
  if (!checked?.has(options.within)) {
    await ensureDurableDirectory(options.within);
    checked?.add(options.within);
  }
  const temp = tempPathBeside(target);
  const linkFree = { create: true, checked, entry: temp, onCreated: batch.folderCreated };
  let created = false;
  try {
    if (version.kind === "symlink") {
      // A link is data: recreated exactly, wherever it points; nothing is written through it.
      await inLinkFreeFolder(
        options.within,
        dir,
        () => Deno.symlink(version.target!, temp),
        linkFree,
      );
      created = true;
      batch.changing(dir);
      const statAtMs = Date.now();
      return { kind: version.kind, temp, target, prints: [], stat: Deno.lstatSync(temp), statAtMs };
    }
    using file = await inLinkFreeFolder(
      options.within,
      dir,
      // Synchronous, as the rename: the hand-off of an awaited open to a thread and back cost
      // more than the open, and held the link lock meanwhile. A real tree's first pull into a
      // new ext4 took 2.49 and 2.67 s against 2.70 and 2.91 (medians of two A/Bs, either order,
      // quiet machine); 100,000 small files took the same. Only ext4 without a journal (this
      // project's test machine's root, not users' disks) makes creating a file slow after many
      // deletions, as it passes over the inodes freed lately.
      // Made with its mode (restoredMode has taken the umask's bits off already, so the
      // kernel's umask changes nothing): a chmod per file was a system call of its own.
      () =>
        Promise.resolve(
          Deno.openSync(temp, { write: true, createNew: true, mode: restoredMode(version.mode) }),
        ),
      linkFree,
    );
    created = true;
    batch.changing(dir);
    const prints = await writeVerifiedFile(store, version, file, options);
    const statAtMs = Date.now();
    const stat = file.statSync();
    await batch.fileWritten(file);
    return { kind: version.kind, temp, target, prints, stat, statAtMs };
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
  }
}

/**
 * Renames a staged version over its target (after `beforeReplace`, which may refuse), part of
 * `batch`: durable once `batch.entriesDurable()` settles. A refusal or failure removes the
 * staged file and leaves the target as it was.
 *
 * @example
 * ```ts
 * await replaceWithStaged(staged, { within, beforeReplace: checkUnedited }, batch);
 * ```
 */
export async function replaceWithStaged(
  staged: StagedVersion,
  options: ReplaceOptions,
  batch: RestoreBatch,
): Promise<void> {
  const { temp, target } = staged;
  const dir = dirname(target);
  try {
    await inLinkFreeFolder(options.within, dir, async () => {
      await options.beforeReplace?.();
      crashPoint("before-rename");
      // A folder made meanwhile, e.g. by this pull for a file below the same name.
      const folderHere = (cause?: unknown) =>
        new TcfsError(
          `${target} is a folder here but a ${staged.kind} remotely; kept the folder`,
          {
            kind: "path_blocked",
            hint: "move what is in the folder elsewhere, then pull again",
            cause,
          },
        );
      const { ifAbsent } = options;
      if (ifAbsent) {
        const taken = (now: Deno.FileInfo) => now.isDirectory ? folderHere() : ifAbsent();
        if (staged.kind === "file" && linkedIntoPlace(staged, taken)) return;
        const now = lstatIfPresent(target);
        if (now) throw taken(now);
      }
      try {
        Deno.renameSync(temp, target);
      } catch (err) {
        if (!(err instanceof Deno.errors.IsADirectory)) throw err;
        throw folderHere(err);
      }
    }, { checked: options.checkedFolders, entry: target });
  } catch (err) {
    await discardStaged(staged);
    throw err;
  }
  batch.entryChanged(dir);
}

/**
 * Links a staged file at its target, then removes its temp name; throws `taken(what is there)`
 * when the name is taken. False when the filesystem makes no hard links (FAT, some network and
 * FUSE ones).
 */
function linkedIntoPlace(
  { temp, target, stat }: StagedVersion,
  taken: (now: Deno.FileInfo) => Error,
): boolean {
  try {
    Deno.linkSync(temp, target);
  } catch (err) {
    const now = err instanceof Deno.errors.AlreadyExists ? lstatIfPresent(target) : undefined;
    // Not linked: no hard links here, or the name was freed since (the caller checks again).
    if (!now) return false;
    // Linked after all: an NFS client's retry of a link that went through meets its own link.
    if (now.ino !== stat.ino) throw taken(now);
  }
  try {
    Deno.removeSync(temp);
  } catch {
    // Placed all the same: the temp sweeper removes the name left (temp_sweeper.ts).
  }
  return true;
}

/**
 * Removes a staged version that will not take its place.
 *
 * @example
 * ```ts
 * await discardStaged(staged);
 * ```
 */
export async function discardStaged(staged: StagedVersion): Promise<void> {
  await Deno.remove(staged.temp).catch(() => {});
}

const SYNC_WRITE_BELOW_BYTES = 64 * 1024;

/** Zero runs shorter than a file system block are written: a hole could not save a block. */
const HOLE_MIN_BYTES = 4096;

async function writeVerifiedFile(
  store: ObjectStore,
  version: FileVersion,
  file: Deno.FsFile,
  options: RestoreOptions,
): Promise<PrintedChunk[]> {
  const prints: PrintedChunk[] = [];
  // Nothing keeps the prints of a file that small: they are not taken.
  const printed = version.chunks.length >= MIN_PRINTED_CHUNKS;
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
    if (ref && printed) prints.push({ ...ref, print: await xxh128Hex(bytes) });
  });
  // A hole at the end is made by the length alone.
  if (holes) file.truncateSync(version.size);
  // Synchronous: it costs a tenth of an awaited call (no hand-off to a thread).
  const mtime = new Date(version.mtime_ms);
  file.utimeSync(mtime, mtime);
  return prints;
}
