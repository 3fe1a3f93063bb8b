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
export async function confinedPath(root: string, rel: string, origin: string): Promise<string> {
  assertSafeRelPath(rel, origin);
  const segments = rel.split("/");
  let current = root;
  for (const segment of segments.slice(0, -1)) {
    current = join(current, segment);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(current);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) break;
      throw err;
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
  return join(root, ...segments);
}
