/**
 * `tcfs check --repair`: a head whose content is broken is written again from this device's
 * copy, when this device has the same content (its tracked row says so and the file is
 * unchanged since, or the file hashes to the version's digest). Every chunk is uploaded anew,
 * never named from a known place (that place may be the broken one), and the new version
 * supersedes the broken head as a push would. A path in conflict is left to the user.
 *
 * @module
 */

import type { CheckProblem } from "./store_check.ts";
import type { FileVersion } from "../remote/file_version.ts";
import type { TrackedEntry } from "../state/state_db.ts";
import { rememberChunkLocations } from "../state/chunk_locations.ts";
import { saveChunkPrints } from "../state/chunk_prints.ts";
import { localContent } from "../sync/local_content.ts";
import { unchangedByStat } from "../sync/local_change.ts";
import { localFileHasDigest } from "../sync/local_digest.ts";
import { type LocalEntry, statEntry } from "../sync/local_scanner.ts";
import { contextPackWriter } from "../sync/pack_writer.ts";
import { sameEntryStat } from "../sync/unchanged_removal.ts";
import { writtenFormat } from "../remote/chunk_id_key.ts";
import { pathHeads, type SyncContext, trackedNamespace } from "../sync/sync_context.ts";
import { trackedFrom } from "../sync/tracked_record.ts";
import { writeVersion } from "../journal/version_batch.ts";
import { describeError } from "../errors.ts";

/** What became of one broken head. */
export interface RepairOutcome {
  path: string;
  remote: string;
  /** The broken version's key. */
  version: string;
  repaired: boolean;
  /** The key of the version written over it. */
  new_version?: string;
  /** Why it could not be repaired. */
  why?: string;
}

/**
 * Repairs the heads `problems` name (each once) from local copies, one path at a time.
 *
 * @example
 * ```ts
 * const { problems } = await checkStore(ctx, { prefix: "" });
 * for (const r of await repairFromLocal(ctx, problems)) console.log(r.remote, r.repaired);
 * ```
 */
export async function repairFromLocal(
  ctx: SyncContext,
  problems: readonly CheckProblem[],
): Promise<RepairOutcome[]> {
  const outcomes: RepairOutcome[] = [];
  const broken = new Map(problems.filter((p) => p.version !== "").map((p) => [p.version, p]));
  for (const problem of broken.values()) {
    const outcome = { path: problem.path, remote: problem.remote, version: problem.version };
    try {
      const result = await repairOne(ctx, problem);
      outcomes.push(
        typeof result === "string"
          ? { ...outcome, repaired: false, why: result }
          : { ...outcome, repaired: true, new_version: result.key },
      );
    } catch (err) {
      outcomes.push({ ...outcome, repaired: false, why: describeError(err) });
    }
  }
  return outcomes;
}

/** The new version's key, or why there is none. */
async function repairOne(
  ctx: SyncContext,
  problem: CheckProblem,
): Promise<{ key: string } | string> {
  const rel = problem.path;
  const seen = await pathHeads(ctx, rel);
  const head = seen.heads.find((h) => h.key === problem.version);
  if (!head) return "it is no longer a head: a newer version was written since the check";
  if (seen.heads.length > 1) {
    return `the path is in conflict (${seen.heads.length} versions); resolve it, then check again`;
  }
  const tracked = ctx.state.getTracked(trackedNamespace(ctx), rel);
  if (!tracked || tracked.kind !== "file") return "this device has no copy of it";
  const entry = await statEntry(tracked.localPath, rel);
  if (!entry || entry.kind !== "file") {
    return `this device's copy ${tracked.localPath} is gone`;
  }
  if (!await holdsContent(entry, tracked, head.version, ctx)) {
    return `this device's copy ${tracked.localPath} has other content`;
  }
  const packs = contextPackWriter(ctx);
  const saved = await localContent(entry, packs, { idKey: ctx.keys?.idKey });
  packs.flush();
  await saved.durable;
  // The digests compare only when both hash the same ids: not for format 1 (a hash of the
  // bytes), nor for a head written before its namespace was sealed (plain ids, where the new
  // version's are keyed). Then the file's stat says whether it changed since the check above.
  const unchanged = head.version.format === writtenFormat(ctx.keys)
    ? saved.content.blake3 === head.version.blake3
    : await statEntry(entry.localPath, rel).then((now) => !!now && sameEntryStat(now, entry));
  if (!unchanged) {
    return `this device's copy ${tracked.localPath} changed while it was read`;
  }
  const written = await writeVersion(ctx, rel, saved.content, tracked.baseVclock, seen);
  saveChunkPrints(ctx.state, trackedNamespace(ctx), rel, written.key, saved.prints);
  rememberChunkLocations(ctx.state, ctx.store.location, saved.content.chunks);
  ctx.state.putTracked(trackedFrom(ctx, entry, written, saved.content.blake3));
  return { key: written.key };
}

/** Whether the local file holds `version`'s content: unchanged since it was synced, or hashed. */
async function holdsContent(
  entry: LocalEntry,
  tracked: TrackedEntry,
  version: FileVersion,
  ctx: SyncContext,
): Promise<boolean> {
  if (tracked.blake3 === version.blake3 && unchangedByStat(tracked, entry)) return true;
  const kind = { format: version.format, keys: ctx.keys };
  return await localFileHasDigest(entry.localPath, version.blake3, kind);
}
