/**
 * A store's journals as tests see them: the heads a device that has read nothing yet folds
 * from them, the segments themselves, and segments written as anyone holding the bucket keys
 * could (with any device id, any versions, any bytes).
 *
 * @module
 */

import { join } from "node:path";
import { StateDb } from "../../core/state/state_db.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import type { FileVersion } from "../../core/remote/file_version.ts";
import { journalPrefix, parseSegmentKey, segmentKey } from "../../core/remote/remote_keys.ts";
import { type SyncContext, trackedNamespace } from "../../core/sync/sync_context.ts";
import { catchUp } from "../../core/journal/journal_catch_up.ts";
import { foldedNamespace } from "../../core/journal/folded_versions.ts";
import {
  decodeSegment,
  encodeJournalObject,
  JOURNAL_FORMAT,
  type Segment,
} from "../../core/journal/journal_codec.ts";
import type { PathHeads } from "../../core/journal/stored_version.ts";
import type { TcfsError } from "../../core/errors.ts";

/** What a fresh reader folded: heads by path, and what it could not read. */
export interface StoreHeads {
  byPath: Map<string, PathHeads>;
  unreadable: TcfsError[];
  /** One path's heads and kept versions (empty when the store has none). */
  path(rel: string): PathHeads;
}

/**
 * Catches up a new, empty state database with `store` (as a device that has read nothing
 * would) and returns every path's heads: what the store holds, whatever any device's own fold
 * says. Like any reader, it upgrades a namespace that has no journal marker yet.
 *
 * @example
 * ```ts
 * const { heads } = (await storeHeads(store)).path("a.txt");
 * ```
 */
export async function storeHeads(
  store: ObjectStore,
  namespace = "default",
  revoked: ReadonlyMap<string, string> = new Map(),
): Promise<StoreHeads> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-reader-" });
  const state = await StateDb.open(join(dir, "state.db"));
  try {
    const ctx: SyncContext = {
      store,
      state,
      device: { id: crypto.randomUUID(), name: "reader" },
      bucket: "tcfs",
      namespace,
      revoked,
    };
    const unreadable = await catchUp(ctx);
    const byPath = foldedNamespace(state, trackedNamespace(ctx), () => true);
    return {
      byPath,
      unreadable,
      path: (rel) => byPath.get(rel) ?? { path: rel, heads: [], kept: [] },
    };
  } finally {
    state.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Every segment of every device's journal in `namespace`, decoded and checked, in key order.
 *
 * @example
 * ```ts
 * const versions = (await storeSegments(store)).flatMap((s) => s.versions);
 * ```
 */
export async function storeSegments(store: ObjectStore, namespace = "default"): Promise<Segment[]> {
  const segments: Segment[] = [];
  for await (const info of store.list(journalPrefix(namespace))) {
    if (!parseSegmentKey(info.key)) continue;
    segments.push(await decodeSegment((await store.get(info.key))!, info.key, undefined));
  }
  return segments;
}

/**
 * Writes `versions` as segment `seq` (1 unless told) of `device`'s journal in `namespace`,
 * each field of the segment overridable; returns its key. `bytes` replaces the encoded
 * segment with anything at all.
 *
 * @example
 * ```ts
 * await plantSegment(store, mallory, [version]);
 * ```
 */
export async function plantSegment(
  store: ObjectStore,
  device: string,
  versions: FileVersion[],
  options: { seq?: number; namespace?: string; fields?: Partial<Segment>; bytes?: Uint8Array } = {},
): Promise<string> {
  const namespace = options.namespace ?? "default";
  const seq = options.seq ?? 1;
  const key = segmentKey(namespace, device, seq);
  const body = options.bytes ?? await encodeJournalObject(
    {
      journal: JOURNAL_FORMAT,
      namespace,
      device,
      seq,
      written_at: new Date().toISOString(),
      versions,
      ...options.fields,
    },
    key,
    undefined,
  );
  await store.put(key, body);
  return key;
}
