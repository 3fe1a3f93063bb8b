/**
 * On a filesystem that does not tell names apart by case or normalisation (name_folding.ts), a
 * path may find an entry that another path put there: `d/README.md` finds `d/Readme.md`, and
 * `Docs/a.txt` lands in the folder `docs`. A pull that wrote there would overwrite one synced
 * file with another, or put a file where the next scan sees it under another path, which the
 * next push would then send as a deletion of one path and a new file at the other. So a pull
 * checks, for each path it writes, that every entry on its way found on disk has exactly the
 * name the path gives it, and leaves the path out otherwise.
 *
 * On a filesystem that tells every name apart (Linux's), the check costs one probe per process.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { lstatIfPresent } from "../io/lstat_if_present.ts";
import { type NameKey, nameKeyOf } from "./name_folding.ts";
import { TcfsError } from "../errors.ts";

/** The names entries have on disk below one folder, for one pull. */
export interface NamesOnDisk {
  /**
   * The entry on disk that `path` (below the folder) finds under another name, itself or a
   * folder on its way; undefined when every entry on its way that is there has its name.
   */
  otherEntry(path: string): string | undefined;
}

/**
 * The names on disk below `within`. Its filesystem is probed once something below `within` is
 * looked up, unless this process probed it before.
 *
 * @example
 * ```ts
 * const names = namesOnDisk("/Users/ada/Sync");
 * const other = names.otherEntry("/Users/ada/Sync/d/README.md"); // ".../d/Readme.md" on APFS
 * ```
 */
export function namesOnDisk(within: string): NamesOnDisk {
  let key: NameKey | undefined | null = null;
  /** Per folder, the name on disk of each key; read on demand. */
  const listed = new Map<string, Map<string, string>>();
  const list = (dir: string, keyOf: NameKey) => {
    const names = new Map<string, string>();
    for (const entry of Deno.readDirSync(dir)) names.set(keyOf(entry.name), entry.name);
    listed.set(dir, names);
    return names;
  };
  /**
   * The name on disk of `name`'s entry in `dir`, which holds one (lstat found it). A folder is
   * read once, and again for a name it did not list (made since) or listed otherwise (renamed
   * since): a clash is rare, and is told only as the folder is now.
   */
  const nameOnDisk = (dir: string, name: string, keyOf: NameKey) => {
    const k = keyOf(name);
    const onDisk = listed.get(dir)?.get(k);
    return onDisk === name ? onDisk : list(dir, keyOf).get(k);
  };
  return {
    otherEntry(path) {
      if (key === null) {
        // Nothing at all is below a folder that is not there yet.
        const info = lstatIfPresent(within);
        if (!info) return undefined;
        key = keyOnDevice(info.dev, within);
      }
      const below = relative(within, path);
      if (key === undefined || below === "" || below.startsWith("..")) return undefined;
      let dir = within;
      for (const name of below.split("/")) {
        const here = join(dir, name);
        if (!lstatIfPresent(here)) return undefined;
        const onDisk = nameOnDisk(dir, name, key);
        if (onDisk !== undefined && onDisk !== name) return join(dir, onDisk);
        dir = here;
      }
      return undefined;
    },
  };
}

/**
 * How each filesystem this process has probed compares names, by device number: the probe is a
 * file made in the sync root, which a daemon's watcher sees, so a daemon probes its root once.
 */
const probedDevices = new Map<number, NameKey | undefined>();

function keyOnDevice(dev: number, dir: string): NameKey | undefined {
  if (!probedDevices.has(dev)) probedDevices.set(dev, nameKeyOf(dir));
  return probedDevices.get(dev);
}

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
