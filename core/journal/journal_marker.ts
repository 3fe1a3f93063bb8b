/**
 * The journal marker, `ns/<namespace>/journal.json`: its presence says the namespace keeps its
 * versions in per-device journals. The first device with this tcfs that meets a namespace
 * writes it (with `If-None-Match: *`, so one marker wins a race). A namespace written by an
 * older tcfs is upgraded on the way: its old-layout versions go into a base checkpoint that the
 * marker names, then leave the old layout, where a fence stays behind for older tcfs to stop at.
 *
 * @module
 */

import type { SyncContext } from "../sync/sync_context.ts";
import { trackedNamespace } from "../sync/sync_context.ts";
import { createLimiter } from "../concurrency/limiter.ts";
import { fileUnderStore } from "../state/store_filing.ts";
import {
  checkpointKey,
  journalMarkerKey,
  namespaceVersionsPrefix,
  parseCheckpointKey,
} from "../remote/remote_keys.ts";
import { TcfsError } from "../errors.ts";
import {
  encodeJournalObject,
  JOURNAL_FORMAT,
  JOURNAL_MIN_TCFS,
  journalTooNew,
} from "./journal_codec.ts";
import { FENCE_DIGEST, legacyVersionKeys, readLegacyVersions } from "./legacy_versions.ts";

/** What the marker says. */
export interface JournalMarker {
  journal: typeof JOURNAL_FORMAT;
  /** The oldest tcfs release that reads this namespace. */
  requires: string;
  /** The checkpoint holding the namespace's versions from before the journal, if it had any. */
  base?: string;
  created_by: string;
  created_at: string;
}

/** Markers are tiny; anything bigger is not one. */
const MAX_MARKER_BYTES = 64 * 1024;

/**
 * The namespace's marker, written first (upgrading the namespace) when there is none. Once
 * read it is remembered: a marker is never rewritten.
 *
 * @throws {TcfsError} kind `journal_too_new` when a newer tcfs wrote it.
 *
 * @example
 * ```ts
 * const { base } = await journalMarker(ctx);
 * ```
 */
export async function journalMarker(ctx: SyncContext): Promise<JournalMarker> {
  const remembered = `journal_marker:${trackedNamespace(ctx)}`;
  const known = ctx.state.getMeta(remembered);
  if (known) return JSON.parse(known) as JournalMarker;
  const marker = await readMarker(ctx) ?? await upgradeNamespace(ctx);
  ctx.state.setMeta(remembered, JSON.stringify(marker));
  return marker;
}

async function readMarker(ctx: SyncContext): Promise<JournalMarker | undefined> {
  const key = journalMarkerKey(ctx.namespace);
  const body = await ctx.store.get(key, { maxBytes: MAX_MARKER_BYTES });
  if (!body) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw damaged(key, "it is not JSON");
  }
  if (typeof value?.journal === "number" && value.journal > JOURNAL_FORMAT) {
    throw journalTooNew(key, value.journal, value.requires);
  }
  if (value?.journal !== JOURNAL_FORMAT) throw damaged(key, "its journal format is missing");
  if (value.base !== undefined) {
    const base = typeof value.base === "string" ? parseCheckpointKey(value.base) : undefined;
    if (base?.namespace !== ctx.namespace || base.covered !== 0) {
      throw damaged(key, "its base is not a checkpoint of this namespace that covers no segment");
    }
  }
  return value as unknown as JournalMarker;
}

/**
 * Writes the marker; a namespace with old-layout versions first gets them in a base
 * checkpoint (cursors all zero). The marker goes only after that checkpoint is durable, and
 * old-layout versions leave only after the marker: a crash at any point leaves a namespace
 * that reads the same. Every upgrade's base has a key of its own, so two upgrades by one device
 * id (a CLI beside a daemon) never overwrite or delete each other's.
 */
async function upgradeNamespace(ctx: SyncContext): Promise<JournalMarker> {
  const legacyKeys = await legacyVersionKeys(ctx.store, ctx.namespace);
  const ours: JournalMarker = {
    journal: JOURNAL_FORMAT,
    requires: JOURNAL_MIN_TCFS,
    created_by: ctx.device.id,
    created_at: new Date().toISOString(),
  };
  let read: string[] = [];
  if (legacyKeys.length > 0) {
    ctx.log?.(
      "info",
      `upgrading ${ctx.namespace} to per-device journals: ${legacyKeys.length} versions`,
    );
    // Read afresh, whatever this device cached: the base must hold every version.
    forgetLegacyReads(ctx);
    const { versions, unreadable } = await readLegacyVersions(ctx.store, ctx.state, legacyKeys);
    for (const err of unreadable) ctx.log?.("warning", err.message);
    read = versions.map((v) => v.key);
    ours.base = checkpointKey(ctx.namespace, 0, ctx.device.id);
    await ctx.store.put(
      ours.base,
      await encodeJournalObject(
        {
          journal: JOURNAL_FORMAT,
          namespace: ctx.namespace,
          author: ctx.device.id,
          written_at: ours.created_at,
          cursors: {},
          // Every version, not only heads: readers fold under their own revocations, and a head
          // from a device revoked since must not have pushed out what it superseded.
          versions: versions.map((v) => v.version),
        },
        ours.base,
        ctx.keys,
      ),
    );
  }
  const key = journalMarkerKey(ctx.namespace);
  const body = new TextEncoder().encode(JSON.stringify(ours));
  if (!await ctx.store.putConditional(key, body, { ifNoneMatch: "*" })) {
    // Another upgrade won the marker: its base stands, ours goes.
    const winner = await readMarker(ctx);
    if (ours.base && winner?.base !== ours.base) await ctx.store.delete(ours.base);
    if (!winner) throw damaged(key, "it vanished right after another device wrote it");
    return winner;
  }
  if (legacyKeys.length > 0) await retireLegacyLayout(ctx, read);
  return ours;
}

/**
 * Forgets which old-layout versions this device has read (`readLegacyVersions`), so the next
 * read takes them all again.
 *
 * @example
 * ```ts
 * forgetLegacyReads(ctx);
 * ```
 */
export function forgetLegacyReads(ctx: Pick<SyncContext, "state" | "store" | "namespace">): void {
  ctx.state.pruneVersionCache(
    fileUnderStore(ctx.store.location, namespaceVersionsPrefix(ctx.namespace)),
    new Set(),
  );
}

/**
 * Leaves the fence, then removes the old-layout versions read into the base (each one is
 * there or superseded there): afterwards a catch-up's listing of the old layout finds only
 * the fence and what an older tcfs wrote since. A failed removal only leaves an object that
 * reads as already folded; an unreadable one stays for `tcfs check` to report.
 */
async function retireLegacyLayout(ctx: SyncContext, read: string[]): Promise<void> {
  const fence = `${namespaceVersionsPrefix(ctx.namespace)}${FENCE_DIGEST}/${ctx.device.id}-1.json`;
  await ctx.store.put(
    fence,
    new TextEncoder().encode(JSON.stringify({
      format: `journal: this namespace needs tcfs ${JOURNAL_MIN_TCFS} or later`,
      upgraded_at: new Date().toISOString(),
    })),
  );
  const limiter = createLimiter(32);
  await Promise.allSettled(read.map((key) => limiter.run(() => ctx.store.delete(key))));
}

function damaged(key: string, why: string): TcfsError {
  return new TcfsError(`journal marker ${key} is unreadable: ${why}`, {
    kind: "corrupt_journal",
    hint: "the object was damaged or written by an incompatible tool; restore it from a backup",
  });
}
