/**
 * The tips tcfs kept beside a branch after concurrent commits (git_conflict.ts), for
 * `tcfs conflicts`: in each repository this device syncs (a synced `.git/HEAD`), the loose refs
 * below `refs/tcfs-conflicts/` and those lines of its `packed-refs` (where `git gc` moves them),
 * as they are on disk. One goes away when the user deletes its ref (`git update-ref -d <ref>`),
 * usually after merging it.
 *
 * @module
 */

import { join } from "node:path";
import type { StateDb } from "../state/state_db.ts";
import { gitDirPath } from "./git_dir_path.ts";
import { parsePackedRefs } from "./packed_refs.ts";
import { CONFLICT_REFS } from "./ref_tips.ts";

/** A tip kept under refs/tcfs-conflicts/. */
export interface ConflictRef {
  namespace: string;
  /** The file that holds the ref (a loose ref, or the repository's packed-refs), in the namespace. */
  path: string;
  /** That file on this device. */
  local_path: string;
  /** `refs/tcfs-conflicts/<device>/<branch>@<commit>`. */
  git_ref: string;
  commit: string;
  /** The device whose tip it is. */
  device: string;
  /** When that file was last written here. */
  written_at: string;
}

/**
 * Lists the conflict refs of the repositories this device syncs (optionally in one namespace),
 * sorted by repository and ref.
 *
 * @example
 * ```ts
 * for (const r of await listConflictRefs(state)) console.log(r.git_ref, r.commit);
 * ```
 */
export async function listConflictRefs(
  state: StateDb,
  namespace?: string,
): Promise<ConflictRef[]> {
  state.flush();
  const heads = state.statement(
    `SELECT namespace, path, local_path FROM tracked WHERE kind = 'file' AND path LIKE '%HEAD'
     AND (? IS NULL OR namespace = ?) ORDER BY namespace, path`,
  ).all(namespace ?? null, namespace ?? null) as {
    namespace: string;
    path: string;
    local_path: string;
  }[];
  const found: ConflictRef[] = [];
  for (const head of heads) {
    const at = gitDirPath(head.path);
    if (at?.inside !== "HEAD") continue;
    const gitDir = head.local_path.slice(0, -"/HEAD".length);
    const file = async (inside: string, refs: (text: string) => [string, string][]) => {
      const localPath = join(gitDir, inside);
      const text = await Deno.readTextFile(localPath).catch(() => undefined);
      if (text === undefined) return;
      const written = (await Deno.stat(localPath)).mtime ?? new Date(0);
      for (const [name, commit] of refs(text)) {
        found.push({
          namespace: head.namespace,
          path: `${at.gitDir}/${inside}`,
          local_path: localPath,
          git_ref: name,
          commit,
          device: name.slice(CONFLICT_REFS.length).split("/", 1)[0],
          written_at: written.toISOString(),
        });
      }
    };
    for (const inside of await filesBelow(gitDir, CONFLICT_REFS.slice(0, -1))) {
      await file(inside, (text) => [[inside, text.trim()]]);
    }
    await file(
      "packed-refs",
      (text) => [...parsePackedRefs(text)].filter(([name]) => name.startsWith(CONFLICT_REFS)),
    );
  }
  return found;
}

/** The files below `dir` (relative to `base`, as `dir/...`), sorted; none when it is missing. */
async function filesBelow(base: string, dir: string): Promise<string[]> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(join(base, dir)));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) return [];
    throw err;
  }
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await filesBelow(base, rel));
    else if (entry.isFile && !entry.name.includes(".tcfs-tmp-")) found.push(rel);
  }
  return found;
}
