/**
 * The tips tcfs kept beside a branch after concurrent commits (git_conflict.ts), for
 * `tcfs conflicts`: the synced loose refs below `refs/tcfs-conflicts/`, and those lines of a
 * synced `packed-refs` (where `git gc` moves them). One goes away when the user deletes its ref
 * (`git update-ref -d <ref>`), usually after merging it.
 *
 * @module
 */

import type { StateDb } from "../state/state_db.ts";
import { gitDirPath } from "./git_dir_path.ts";
import { parsePackedRefs } from "./packed_refs.ts";
import { CONFLICT_REFS } from "./ref_tips.ts";

/** A tip kept under refs/tcfs-conflicts/. */
export interface ConflictRef {
  namespace: string;
  /** The synced file that holds the ref (a loose ref, or the repository's packed-refs). */
  path: string;
  /** That file on this device. */
  local_path: string;
  /** `refs/tcfs-conflicts/<device>/<branch>@<commit>`. */
  git_ref: string;
  commit: string;
  /** The device whose tip it is. */
  device: string;
  /** When this device synced the file that names it. */
  synced_at: string;
}

/**
 * Lists the conflict refs of the repositories this device syncs (optionally in one namespace),
 * sorted by file and ref.
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
  const rows = state.statement(
    `SELECT namespace, path, local_path, synced_at FROM tracked WHERE kind = 'file'
     AND (instr(path, '/${CONFLICT_REFS}') > 0 OR path LIKE '%packed-refs')
     AND (? IS NULL OR namespace = ?) ORDER BY namespace, path`,
  ).all(namespace ?? null, namespace ?? null) as {
    namespace: string;
    path: string;
    local_path: string;
    synced_at: string;
  }[];
  const found: ConflictRef[] = [];
  for (const row of rows) {
    const at = gitDirPath(row.path);
    if (at?.kind !== "ref") continue;
    let text: string;
    try {
      text = await Deno.readTextFile(row.local_path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    const refs = at.inside === "packed-refs"
      ? [...parsePackedRefs(text)].filter(([name]) => name.startsWith(CONFLICT_REFS))
      : at.inside.startsWith(CONFLICT_REFS)
      ? [[at.inside, text.trim()] as const]
      : [];
    for (const [name, commit] of refs) {
      const device = name.slice(CONFLICT_REFS.length).split("/", 1)[0];
      found.push({ ...row, git_ref: name, commit, device });
    }
  }
  return found;
}
