/**
 * Whether a filesystem tells names apart by case and by Unicode normalisation. macOS's APFS (by
 * default) and Windows' NTFS do not: `Readme.md` and `README.md`, or an `é` written as one code
 * point or as `e` and an accent, name one entry there, which keeps the name it was created with.
 * A fleet's Linux machines may hold both; such a filesystem can only hold one of them.
 *
 * There is no portable call that says how a filesystem compares names, so one is found out by
 * making a file there and looking it up by other spellings of its name.
 *
 * @module
 */

import { basename, join } from "node:path";
import { lstatIfPresent } from "../io/lstat_if_present.ts";
import { tempPathBeside } from "./temp_sweeper.ts";

/** A name as the filesystem compares it: names with the same key name the same entry. */
export type NameKey = (name: string) => string;

/**
 * How the filesystem holding `dir` (an existing, writable folder) compares names: undefined when
 * it tells every different name apart (Linux's filesystems), else the key it compares by. The
 * probe is an empty file named as tcfs's temp files are, so a crash's leftover is swept like them.
 *
 * @example
 * ```ts
 * const key = nameKeyOf("/Users/ada/Sync"); // on APFS: key("README.md") === key("readme.md")
 * ```
 */
export function nameKeyOf(dir: string): NameKey | undefined {
  // NFC's é, in lower case: looked up again in upper case, and decomposed.
  const probe = basename(tempPathBeside(join(dir, "tcfs-name-probe-\u00e9")));
  Deno.openSync(join(dir, probe), { write: true, createNew: true }).close();
  let foldsCase: boolean, foldsForm: boolean;
  try {
    foldsCase = lstatIfPresent(join(dir, probe.toUpperCase())) !== undefined;
    foldsForm = lstatIfPresent(join(dir, probe.normalize("NFD"))) !== undefined;
  } finally {
    Deno.removeSync(join(dir, probe));
  }
  if (!foldsCase && !foldsForm) return undefined;
  return (name) => {
    const composed = foldsForm ? name.normalize("NFC") : name;
    return foldsCase ? composed.toLowerCase() : composed;
  };
}
