/**
 * Maps remote relative paths onto the local disk without ever leaving the
 * sync root, even when a directory inside it has been swapped for a symlink.
 *
 * @module
 */

import { join } from "node:path";
import { TcfsError } from "../errors.ts";
import { assertSafeRelPath } from "./remote_path.ts";

/**
 * Resolves `rel` under `root` after checking that no existing parent
 * directory on the way is a symlink (which could point anywhere).
 * The final component may be anything; callers replace it atomically.
 *
 * @example
 * ```ts
 * const target = await confinedPath("/home/me/Sync", "docs/a.txt", "pull");
 * ```
 */
export function confinedPath(root: string, rel: string, origin: string): Promise<string> {
  // A refusal is a rejection, as for any awaited check.
  return new Promise((resolve) => resolve(confinedPlace(root, rel, origin, new Set()).path));
}

/** Folders found missing by one planning pass, so each is looked for once. */
export type MissingFolders = Set<string>;

/**
 * {@linkcode confinedPath}, also telling whether a folder on the way is missing (then nothing
 * can be at the path), with `missing` remembering such folders across the calls of one pass
 * (such as the planning of a pull, which creates nothing): a first pull into an empty root
 * would otherwise look for each missing folder once per file below it.
 *
 * @example
 * ```ts
 * const missing: MissingFolders = new Set();
 * const { path, parentMissing } = confinedPlace(root, "docs/a.txt", "pull", missing);
 * ```
 */
export function confinedPlace(
  root: string,
  rel: string,
  origin: string,
  missing: MissingFolders,
): { path: string; parentMissing: boolean } {
  assertSafeRelPath(rel, origin);
  const segments = rel.split("/");
  let current = root;
  let parentMissing = false;
  for (const segment of segments.slice(0, -1)) {
    current = join(current, segment);
    if (missing.has(current)) {
      parentMissing = true;
      break;
    }
    let info: Deno.FileInfo;
    try {
      // Synchronous: an awaited lstat costs about ten times as much, once per folder per file.
      info = Deno.lstatSync(current);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      missing.add(current);
      parentMissing = true;
      break;
    }
    if (info.isSymlink) {
      throw new TcfsError(
        `refusing to write ${
          JSON.stringify(rel)
        }: ${current} is a symlink, and writing through it could leave ${root}`,
        {
          kind: "unsafe_path",
          hint: "replace the symlink with a real directory, or exclude the path",
        },
      );
    }
    if (!info.isDirectory) {
      throw new TcfsError(`cannot write ${JSON.stringify(rel)}: ${current} is not a directory`, {
        kind: "path_blocked",
        hint: "move the file that is in the way, then pull again",
      });
    }
  }
  return { path: join(root, ...segments), parentMissing };
}
