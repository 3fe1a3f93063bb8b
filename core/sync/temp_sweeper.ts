/**
 * tcfs's temp files beside the files it restores, and removing those a killed tcfs left.
 * A file is restored as `.<name>.tcfs-tmp-<pid>-<8 hex>` and renamed into place; a kill
 * between the two leaves the temp. Such a file is never synced (the exclude matcher skips it)
 * and never complete in anyone's eyes, so removing a stale one loses nothing.
 *
 * A temp is stale when the process named in it is gone, or when nothing changed it for
 * {@linkcode STALE_AFTER_MS} (the pid may have been reused, and temps written before the pid
 * was part of the name, `.<name>.tcfs-tmp-<8 hex>`, have only their age). A writer that is still
 * writing changes its temp all the time, so its temp is never taken from under it, whichever
 * process sweeps; one whose writer has stalled for that long goes.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { SCAN_TURN_ENTRIES } from "./local_scanner.ts";
import { fitName } from "../paths/name_fit.ts";

/** The names tcfs gives its temp files: the writer's pid was added later. */
const TEMP_NAME = /^\..+\.tcfs-tmp-(?:([0-9]+)-)?[0-9a-f]{8}$/;

/**
 * A temp untouched this long is stale even if its pid is alive. The age is the inode's change
 * time: a restore sets the temp's mtime to the version's, which may be years old.
 */
const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * A fresh temp path beside `target`, carrying this process's pid.
 *
 * @example
 * ```ts
 * tempPathBeside("/home/me/Sync/big.bin"); // "/home/me/Sync/.big.bin.tcfs-tmp-4242-0f3a9c1e"
 * ```
 */
export function tempPathBeside(target: string): string {
  const tail = `.tcfs-tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  // A name near the limit keeps only its start: the temp must fit where the target fits.
  return join(dirname(target), fitName(`.${basename(target)}`, tail));
}

/** Options for {@linkcode sweepTempFiles} and {@linkcode removeStaleTemps}. */
export interface SweepOptions {
  /** Age after which a temp is stale whatever its pid says; {@linkcode STALE_AFTER_MS} by default. */
  staleAfterMs?: number;
  /** Told of each temp removed. */
  log?: (level: "info", message: string) => void;
}

/**
 * Removes every stale tcfs temp file below the folder `root` (nothing when it is a file) and
 * returns their paths. Symlinked folders are not followed.
 *
 * @example
 * ```ts
 * const removed = await sweepTempFiles("/home/me/Sync");
 * ```
 */
export async function sweepTempFiles(root: string, options: SweepOptions = {}): Promise<string[]> {
  const temps: string[] = [];
  let sinceTurn = 0;
  // Synchronous reads, as the scanner's (local_scanner.ts): awaiting each entry cost a sweep
  // of a 100,000-file tree more than a scan. The event loop turns as often as during a scan.
  const visit = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (err) {
      if (
        err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied ||
        err instanceof Deno.errors.NotADirectory
      ) {
        return;
      }
      throw err;
    }
    sinceTurn += entries.length;
    if (sinceTurn >= SCAN_TURN_ENTRIES) {
      sinceTurn = 0;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    for (const entry of entries) {
      if (entry.isDirectory) await visit(join(dir, entry.name));
      else if (isTempFile(entry)) temps.push(join(dir, entry.name));
    }
  };
  await visit(root);
  return await removeStaleTemps(temps, options);
}

/**
 * Whether `entry` is named as one of tcfs's temp files (a symlink version is restored through
 * a temp link), for a walk of its own that finds them ({@linkcode removeStaleTemps}).
 *
 * @example
 * ```ts
 * if (isTempFile(entry)) temps.push(join(dir, entry.name));
 * ```
 */
export function isTempFile(entry: Deno.DirEntry): boolean {
  return (entry.isFile || entry.isSymlink) && TEMP_NAME.test(entry.name);
}

/**
 * Removes the stale ones among the temp files at `paths` and returns their paths.
 *
 * @example
 * ```ts
 * await removeStaleTemps(["/home/me/Sync/.a.txt.tcfs-tmp-4242-0f3a9c1e"]);
 * ```
 */
export async function removeStaleTemps(
  paths: readonly string[],
  options: SweepOptions = {},
): Promise<string[]> {
  const staleAfterMs = options.staleAfterMs ?? STALE_AFTER_MS;
  const removed: string[] = [];
  for (const path of paths) {
    const pid = TEMP_NAME.exec(basename(path))?.[1];
    if (!await isStale(path, pid, staleAfterMs)) continue;
    await Deno.remove(path).catch(() => {});
    removed.push(path);
    options.log?.("info", `removed ${path}, a temp file left by an interrupted transfer`);
  }
  return removed;
}

async function isStale(path: string, pid: string | undefined, staleAfterMs: number) {
  if (pid !== undefined && !processAlive(Number(pid))) return true;
  const info = await Deno.lstat(path).catch(() => undefined);
  const changed = info?.ctime ?? info?.mtime;
  return changed !== null && changed !== undefined && Date.now() - changed.getTime() > staleAfterMs;
}

function processAlive(pid: number): boolean {
  // 0 and negative numbers would name process groups.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    // Signal 0 only asks whether the process exists (kill(2)); Deno's type lists named signals.
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return !(err instanceof Deno.errors.NotFound);
  }
}
