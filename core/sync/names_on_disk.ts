/**
 * On a filesystem that does not tell names apart by case or normalisation (name_folding.ts), a
 * path may find an entry that another path put there: `d/README.md` finds `d/Readme.md`, and
 * `Docs/a.txt` lands in the folder `docs`. A pull that wrote there would overwrite one synced
 * file with another, or put a file where the next scan sees it under another path, which the
 * next push would then send as a deletion of one path and a new file at the other. So a pull
 * checks, for each path it writes, that every entry on its way found on disk has exactly the
 * name the path gives it, and leaves the path out otherwise; of two such paths new to the disk,
 * the first in name order is written, so that every device of the kind keeps the same one.
 *
 * On a filesystem that tells every name apart (Linux's), the check costs one probe per process
 * and an lstat of each folder on the way once per pull, nothing per file.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { isMissingPath, lstatIfPresent } from "../io/lstat_if_present.ts";
import { type NameKey, nameKeyOf } from "./name_folding.ts";
import { TcfsError } from "../errors.ts";
import { leadsOutside } from "../paths/leads_outside.ts";

/** The names entries have on disk below one folder, for one pull. */
export interface NamesOnDisk {
  /**
   * The entry on disk that `path` (below the folder) finds under another name, itself or a
   * folder on its way; undefined when every entry on its way that is there has its name.
   */
  otherEntry(path: string): string | undefined;
  /**
   * Of `paths` (below the folder, which exists, all to be written by one pull), those whose
   * place another of them takes on this filesystem: the first in name order has it, on every
   * device alike. Each comes with the other's entry (the file, or a folder on its way).
   */
  twinsAmong(paths: readonly string[]): Map<string, string>;
}

/**
 * The names on disk below `within`. Each filesystem below it (`within`'s, and any mounted inside)
 * is probed once something on it is looked up, unless this process probed it before.
 *
 * @example
 * ```ts
 * const names = namesOnDisk("/Users/ada/Sync");
 * const other = names.otherEntry("/Users/ada/Sync/d/README.md"); // ".../d/Readme.md" on APFS
 * ```
 */
export function namesOnDisk(within: string): NamesOnDisk {
  /** Why a probe failed, by the folder it was made in: told for each path that needs it. */
  const probeFailures = new Map<string, unknown>();
  const keyIn = (dev: number, dir: string): NameKey | undefined => {
    if (probedDevices.has(dev)) return probedDevices.get(dev);
    if (probeFailures.has(dir)) throw probeFailures.get(dir);
    try {
      const key = nameKeyOf(dir);
      probedDevices.set(dev, key);
      return key;
    } catch (err) {
      probeFailures.set(dir, err);
      throw err;
    }
  };
  /** Each folder met that was there, with its info (its device tells its filesystem). */
  const folders = new Map<string, Deno.FileInfo>();
  const folderAt = (dir: string, missing: Set<string>) => {
    let info = folders.get(dir);
    if (info || missing.has(dir)) return info;
    // The root is where its link, if it is one, leads: the folder written into.
    info = dir === within ? statIfPresent(dir) : lstatIfPresent(dir);
    if (info?.isDirectory) folders.set(dir, info);
    else missing.add(dir);
    return info?.isDirectory ? info : undefined;
  };
  /**
   * The steps to `path` through folders that are there: each folder, the name looked up in it,
   * and how its filesystem compares names. Each filesystem on the way (a drive may be mounted
   * below the root) is probed in its deepest folder on the way, which is the one a pull writes
   * into. `missing` remembers absent folders for the calls of one pass.
   */
  const wayTo = (path: string, missing = new Set<string>()) => {
    const below = relative(within, path);
    if (below === "" || leadsOutside(below)) return [];
    const steps: { dir: string; name: string; dev: number }[] = [];
    let dir = within;
    for (const name of below.split("/")) {
      const info = folderAt(dir, missing);
      if (!info) break;
      steps.push({ dir, name, dev: info.dev });
      dir = join(dir, name);
    }
    const keys = new Map<number, NameKey | undefined>();
    for (const { dev, dir } of steps.toReversed()) {
      if (!keys.has(dev)) keys.set(dev, keyIn(dev, dir));
    }
    return steps.map(({ dir, name, dev }) => ({ dir, name, key: keys.get(dev) }));
  };
  /** Per folder, the names on disk; read on demand. */
  const listed = new Map<string, Set<string>>();
  const list = (dir: string) => {
    const names = new Set<string>();
    for (const entry of Deno.readDirSync(dir)) names.add(entry.name);
    listed.set(dir, names);
    return names;
  };
  /**
   * The name on disk of the entry `name` found in `dir` (`found` is its lstat). A folder is read
   * once, and again for a name it did not list (made or renamed since): a clash is rare, and is
   * told only as the folder is now. When the folder does not list `name` itself, the entry has
   * another name, found by key or, where the filesystem folds by rules the key does not know
   * (Greek final sigma on APFS), by inode; failing both, `name` is still not its name.
   */
  const nameOnDisk = (dir: string, name: string, keyOf: NameKey, found: Deno.FileInfo) => {
    if (listed.get(dir)?.has(name)) return name;
    const names = list(dir);
    if (names.has(name)) return name;
    const k = keyOf(name);
    const others = [...names];
    return others.find((other) => keyOf(other) === k) ??
      others.find((other) => sameEntry(lstatIfPresent(join(dir, other)), found)) ??
      UNKNOWN_NAME;
  };
  return {
    otherEntry(path) {
      for (const { dir, name, key } of wayTo(path)) {
        if (!key) continue;
        const found = lstatIfPresent(join(dir, name));
        if (!found) return undefined;
        const onDisk = nameOnDisk(dir, name, key, found);
        if (onDisk !== name) return join(dir, onDisk);
      }
      return undefined;
    },

    twinsAmong(paths) {
      const twins = new Map<string, string>();
      const missing = new Set<string>();
      /** The first spelling met of each folded path (of a file or a folder). */
      const spelled = new Map<string, string>();
      // By code unit: JavaScript's own order, the same on every device.
      for (const path of [...paths].sort()) {
        const way = wayTo(path, missing);
        if (way.length === 0) continue;
        // Folders yet to be made are made on the filesystem of the deepest one there.
        const deepest = way[way.length - 1].key;
        const named: [string, string][] = [];
        let prefix = "";
        let folded = "";
        for (const [i, name] of relative(within, path).split("/").entries()) {
          const key = i < way.length ? way[i].key : deepest;
          prefix = prefix ? `${prefix}/${name}` : name;
          folded = `${folded}/${key ? key(name) : name}`;
          const first = spelled.get(folded);
          if (first !== undefined && first !== prefix) {
            twins.set(path, join(within, first));
            break;
          }
          named.push([folded, prefix]);
        }
        if (!twins.has(path)) { for (const [k, spelling] of named) spelled.set(k, spelling); }
      }
      return twins;
    },
  };
}

/** `stat` (a link is followed) for a path that may well be absent. */
function statIfPresent(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (err) {
    if (isMissingPath(err)) return undefined;
    throw err;
  }
}

/** What {@linkcode NamesOnDisk.otherEntry} names an entry that holds a place under a name it could not read. */
const UNKNOWN_NAME = "(an entry under another name)";

function sameEntry(a: Deno.FileInfo | undefined, b: Deno.FileInfo): boolean {
  return a !== undefined && a.ino !== null && a.ino === b.ino && a.dev === b.dev;
}

/**
 * How each filesystem this process has probed compares names, by device number: the probe is a
 * file made in the sync root (or a folder of it), which a daemon's watcher sees, so a daemon
 * probes each filesystem once.
 */
const probedDevices = new Map<number, NameKey | undefined>();

/**
 * Why `path` was left out: `other`, already on disk, is the entry its name finds there.
 *
 * @example
 * ```ts
 * throw nameClash("/Users/ada/Sync/d/README.md", "/Users/ada/Sync/d/Readme.md");
 * ```
 */
export function nameClash(path: string, other: string): TcfsError {
  const what = dirname(path) === dirname(other) ? "" : " (a folder on its way)";
  return new TcfsError(
    `${path} was not pulled: ${other}${what} is there, and this filesystem takes the two names ` +
      `for one (it does not tell names apart by case, or by how accents are written)`,
    {
      kind: "path_blocked",
      hint: "rename one of the two on a machine whose filesystem tells them apart (Linux), " +
        "then sync again; until then this machine keeps the one it has",
    },
  );
}
