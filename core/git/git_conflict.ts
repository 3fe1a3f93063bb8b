/**
 * Conflicts inside a git directory, resolved the way git's own data allows, and never with a
 * conflict copy there (git would read a copy as a stray ref or object):
 * - an object is named by its content, so two versions of one name hold the same object:
 *   any content side stands;
 * - a ref (`HEAD`, `refs/**`, `packed-refs` line by line) keeps one tip, and each other tip
 *   that history does not hold yet goes to `refs/tcfs-conflicts/<device>/<branch>@<commit>`,
 *   where both commits stay reachable (ref_tips.ts). A loose ref that another device deleted
 *   while this one moved it was packed there by `git gc`: the packed value is its side.
 *
 * The chosen value is written to the local file, which then wins as `keep_local` does: a version
 * that dominates every head the resolution read, so every device takes it.
 *
 * @module
 */

import { join } from "node:path";
import { TcfsError } from "../errors.ts";
import type { StoredVersion } from "../journal/stored_version.ts";
import { dominates } from "../vclock/vector_clock.ts";
import { mappedRoot } from "../paths/link_free_folder.ts";
import { lstatIfPresent } from "../io/lstat_if_present.ts";
import { readVerifiedContent } from "../sync/verified_content.ts";
import { statEntry } from "../sync/local_scanner.ts";
import { modifiedSince } from "../sync/local_change.ts";
import { restoreVersion } from "../sync/file_restorer.ts";
import { pathHeads, type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import { type ResolutionOutcome, resolveConflict } from "../conflicts/conflict_resolver.ts";
import type { ConflictSite } from "../conflicts/conflict_site.ts";
import type { GitDirPath } from "./git_dir_path.ts";
import { isAncestor } from "./git_command.ts";
import { chooseTip, conflictRefName, type RefValue } from "./ref_tips.ts";
import { isObjectId, validRefName, writeRefFile } from "./ref_file.ts";
import { formatPackedRefs, parsePackedRefs } from "./packed_refs.ts";

/**
 * Resolves a conflict on an object or a ref of a git directory (see the module doc).
 *
 * @example
 * ```ts
 * const at = gitDirPath(".git/refs/heads/main")!;
 * await resolveGitConflict(ctx, { rel: ".git/refs/heads/main", localPath }, at);
 * ```
 */
export async function resolveGitConflict(
  ctx: SyncContext,
  site: ConflictSite,
  at: GitDirPath,
): Promise<ResolutionOutcome> {
  if (at.kind !== "object" && at.kind !== "ref") {
    throw new TcfsError(`${site.rel} is no git object or ref`, { kind: "usage" });
  }
  const within = mappedRoot(site.localPath, site.rel);
  const remote = await remoteSides(ctx, site.rel);
  const local = lstatIfPresent(site.localPath);
  if (local && !local.isFile) return await resolveConflict(ctx, site, "keep_remote");
  if (at.kind === "object") {
    if (!local) {
      const content = remote.find((h) => h.version.kind === "file");
      if (!content) return await resolveConflict(ctx, site, "keep_remote");
      await restoreVersion(ctx.store, content.version, site.localPath, {
        within,
        counters: { chunksDownloaded: 0, bytesDownloaded: 0 },
        keys: ctx.keys,
      });
    }
    return await resolveConflict(ctx, site, "keep_local");
  }
  const values: { device: string; text: string }[] = [];
  // A local value as this device synced it is history the remote heads have seen: no side.
  const entry = local && await statEntry(site.localPath, site.rel);
  const tracked = ctx.state.getTracked(trackedNamespace(ctx), site.rel);
  if (entry && (!tracked || await modifiedSince(tracked, entry, ctx.keys))) {
    values.push({ device: ctx.device.name, text: await Deno.readTextFile(site.localPath) });
  }
  for (const head of remote) {
    if (head.version.kind !== "file") continue;
    values.push({ device: head.version.author_name, text: await versionText(ctx, head) });
  }
  const gitDir = site.localPath.slice(0, -(at.inside.length + 1));
  // A loose ref deleted there was packed there (`git gc`): its value there is the line of the
  // packed-refs this pull has brought.
  const packer = remote.find((h) => h.version.kind === "deleted");
  if (packer && at.inside.startsWith("refs/")) {
    const packed = await Deno.readTextFile(join(gitDir, "packed-refs")).catch(() => "");
    const value = parsePackedRefs(packed).get(at.inside);
    if (value !== undefined) values.push({ device: packer.version.author_name, text: value });
  }
  if (values.length === 0) return await resolveConflict(ctx, site, "keep_remote");
  const ancestry = (a: string, b: string) => isAncestor(gitDir, a, b);
  const kept: { ref: string; tip: RefValue }[] = [];
  let text: string;
  if (at.inside === "packed-refs") {
    const sides = values.map((v) => ({ device: v.device, refs: parsePackedRefs(v.text) }));
    const merged = new Map<string, string>();
    const names = new Set(sides.flatMap((s) => [...s.refs.keys()]));
    for (const name of names) {
      if (!validRefName(name)) continue;
      const candidates = sides.flatMap((s) => {
        const value = s.refs.get(name);
        return value !== undefined && isObjectId(value) ? [{ device: s.device, value }] : [];
      });
      if (candidates.length === 0) continue;
      const choice = await chooseTip(candidates, ancestry);
      merged.set(name, choice.winner.value);
      kept.push(...choice.kept.map((tip) => ({ ref: name, tip })));
    }
    text = formatPackedRefs(merged);
  } else {
    const candidates = values.map((v) => ({ device: v.device, value: v.text.trim() }))
      .filter((v) => isObjectId(v.value) || /^ref: refs\/\S+$/.test(v.value));
    if (candidates.length === 0) return await resolveConflict(ctx, site, "keep_remote");
    const choice = await chooseTip(candidates, ancestry);
    text = `${choice.winner.value}\n`;
    kept.push(...choice.kept.map((tip) => ({ ref: at.inside, tip })));
  }
  for (const { ref, tip } of kept) {
    const name = conflictRefName(tip.device, ref, tip.value);
    await writeRefFile(within, join(gitDir, name), `${tip.value}\n`);
    ctx.log?.("info", `${site.rel}: kept ${tip.device}'s tip ${tip.value.slice(0, 12)} as ${name}`);
  }
  if (!local || await Deno.readTextFile(site.localPath) !== text) {
    await writeRefFile(within, site.localPath, text);
  }
  return await resolveConflict(ctx, site, "keep_local");
}

/** The heads of `rel` this device has not seen. */
async function remoteSides(ctx: SyncContext, rel: string): Promise<StoredVersion[]> {
  const { heads } = await pathHeads(ctx, rel);
  const base = ctx.state.getTracked(trackedNamespace(ctx), rel)?.baseVclock ?? {};
  return heads.filter((h) => !dominates(base, h.version.vclock))
    .sort((a, b) => (a.version.author_name < b.version.author_name ? -1 : 1));
}

/** A small version's content as text (a ref file is a line or a few thousand). */
async function versionText(ctx: SyncContext, head: StoredVersion): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  await readVerifiedContent(
    ctx.store,
    head.version,
    { counters: { chunksDownloaded: 0, bytesDownloaded: 0 }, keys: ctx.keys },
    (bytes) => Promise.resolve(text += decoder.decode(bytes, { stream: true })),
  );
  return text + decoder.decode();
}
