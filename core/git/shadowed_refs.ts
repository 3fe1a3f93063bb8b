/**
 * A ref lives in two files: its loose file, which wins, and its line in `packed-refs`, where
 * `git gc` moves it. So another device can move a branch and pack it while this one moves it
 * as a loose file: no path conflicts, but the loose file would hide the other device's commit.
 * A pull that brings a `packed-refs` in which a ref changed, while a loose file here holds a
 * value that neither is nor descends from it, weighs the two as concurrent tips (ref_tips.ts):
 * the winner stands in the loose file, the other is kept under `refs/tcfs-conflicts/`.
 *
 * @module
 */

import { join } from "node:path";
import type { SyncContext } from "../sync/sync_context.ts";
import { isAncestor } from "./git_command.ts";
import { parsePackedRefs } from "./packed_refs.ts";
import { chooseTip, conflictRefName } from "./ref_tips.ts";
import { isObjectId, validRefName, writeRefFile } from "./ref_file.ts";

/**
 * The refs of the git directory `gitDir` (absolute) as its `packed-refs` names them; empty when
 * it has none.
 *
 * @example
 * ```ts
 * const before = await packedRefsOf("/home/me/Sync/proj/.git");
 * ```
 */
export async function packedRefsOf(gitDir: string): Promise<Map<string, string>> {
  try {
    return parsePackedRefs(await Deno.readTextFile(join(gitDir, "packed-refs")));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return new Map();
    }
    throw err;
  }
}

/**
 * After a pull: for each ref whose packed value the pull changed (from `before`) and whose
 * loose file here hides it, keeps both tips (see the module doc). `packer` is the device that
 * wrote the pulled `packed-refs`. Returns what it did, for the log.
 *
 * @example
 * ```ts
 * for (const note of await keepShadowedTips(ctx, gitDir, before, "laptop", root)) log("info", note);
 * ```
 */
export async function keepShadowedTips(
  ctx: SyncContext,
  gitDir: string,
  before: ReadonlyMap<string, string>,
  packer: string,
  within: string,
): Promise<string[]> {
  const notes: string[] = [];
  for (const [ref, packed] of await packedRefsOf(gitDir)) {
    if (before.get(ref) === packed || !validRefName(ref) || !isObjectId(packed)) continue;
    let loose: string;
    try {
      loose = (await Deno.readTextFile(join(gitDir, ref))).trim();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    if (loose === packed || !isObjectId(loose)) continue;
    const { winner, kept } = await chooseTip(
      [{ device: ctx.device.name, value: loose }, { device: packer, value: packed }],
      (a, b) => isAncestor(gitDir, a, b),
    );
    if (winner.value !== loose) await writeRefFile(within, join(gitDir, ref), `${winner.value}\n`);
    for (const tip of kept) {
      const name = conflictRefName(tip.device, ref, tip.value);
      await writeRefFile(within, join(gitDir, name), `${tip.value}\n`);
      notes.push(`${gitDir}: ${ref} moved on ${packer} and here; kept ${tip.device}'s as ${name}`);
    }
  }
  return notes;
}
