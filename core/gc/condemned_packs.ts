/**
 * Condemned packs: how gc deletes content safely while other devices push.
 *
 * A gc run never deletes a pack it has just found unreferenced: it condemns it, in a record
 * under `tcfs-meta/gc/condemned/`. A later run deletes it only if the pack was condemned at
 * least the minimum age before that run's reference scan began, and the scan still finds no
 * reference to it. Writers look at the records before they name packs: a push does not reuse a
 * chunk from a condemned pack, and no segment names one ({@linkcode assertNoneCondemned}),
 * with a view of the records at most {@linkcode condemnedViewMaxAgeMs} old, nor a pack it has
 * not seen in the store since it read that view.
 *
 * Why that is enough: a segment written with a view taken at `r` lands before `r` plus the
 * view's age plus the write's own time. If the pack was condemned before `r` and is still on a
 * record, the writer saw it and named none of it; if it was deleted before `r`, its record may
 * be gone too, but the writer, which saw the pack after `r`, would have found it missing; if
 * it was condemned after `r`, the segment landed before the condemnation plus
 * {@linkcode safeMinAgeMs}, so a scan that begins later than the condemnation plus a minimum
 * age of at least that sees the segment and rescues the pack. A pack a push uploaded but has
 * not named yet is covered the same way: it is found unreferenced, condemned, and either named
 * within the bound (rescued) or refused at the segment write, however long the push took.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import type { ChunkRef, FileVersion } from "../remote/file_version.ts";
import { CONDEMNED_PREFIX } from "../remote/remote_keys.ts";
import { contentObjectKey } from "../remote/content_objects.ts";
import { TcfsError } from "../errors.ts";
import { isStored, restartObjectChecks } from "../state/chunk_locations.ts";

/** How old a writer's view of the condemned packs may be when it writes a segment. */
export const CONDEMNED_VIEW_MAX_AGE_MS = 5 * 60_000;

/**
 * The view's age in this process: {@linkcode CONDEMNED_VIEW_MAX_AGE_MS}, or less where
 * `TCFS_CONDEMNED_VIEW_MAX_AGE_MS` says so (tests that run gc beside writers in seconds).
 *
 * @example
 * ```ts
 * const fresh = Date.now() - takenAt < condemnedViewMaxAgeMs();
 * ```
 */
export function condemnedViewMaxAgeMs(): number {
  const set = Number(Deno.env.get("TCFS_CONDEMNED_VIEW_MAX_AGE_MS"));
  return Number.isSafeInteger(set) && set > 0 && set < CONDEMNED_VIEW_MAX_AGE_MS
    ? set
    : CONDEMNED_VIEW_MAX_AGE_MS;
}

/**
 * The smallest minimum age at which gc is safe beside writers: three times the view's age,
 * leaving time for a slow segment write to land and for clocks to differ.
 *
 * @example
 * ```ts
 * if (minAgeMs > 0 && minAgeMs < safeMinAgeMs()) log("unsafe beside writers");
 * ```
 */
export function safeMinAgeMs(): number {
  return 3 * condemnedViewMaxAgeMs();
}

/** One gc run's record of the objects (`packs/<id>`, `chunks/<id>`) it condemned. */
export interface CondemnedRecord {
  condemned_at: string;
  /** The device that ran gc. */
  by: string;
  objects: string[];
}

/** A record as read from the store, with its key. */
export interface StoredCondemnedRecord {
  key: string;
  record: CondemnedRecord;
}

/** The most bytes a record may hold: a few hundred thousand packs. */
const MAX_RECORD_BYTES = 32 * 1024 * 1024;

/**
 * Every condemned record in `store`. A record that is not one (damaged, or written by
 * something else) is reported through `onUnreadable` and skipped: it protects nothing and
 * condemns nothing.
 *
 * @example
 * ```ts
 * const records = await readCondemnedRecords(store, (key) => log(`skipping ${key}`));
 * ```
 */
export async function readCondemnedRecords(
  store: ObjectStore,
  onUnreadable: (key: string, why: string) => void = () => {},
): Promise<StoredCondemnedRecord[]> {
  const found: StoredCondemnedRecord[] = [];
  for await (const info of store.list(CONDEMNED_PREFIX)) {
    const body = await store.get(info.key, { maxBytes: MAX_RECORD_BYTES }).catch((err) => {
      onUnreadable(info.key, err instanceof Error ? err.message : String(err));
      return undefined;
    });
    if (!body) continue;
    const record = parseRecord(body);
    if (record) found.push({ key: info.key, record });
    else onUnreadable(info.key, "it is not a condemned-pack record");
  }
  return found;
}

function parseRecord(body: Uint8Array): CondemnedRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  const r = value as Partial<CondemnedRecord> | null;
  const valid = typeof r === "object" && r !== null && typeof r.condemned_at === "string" &&
    !Number.isNaN(Date.parse(r.condemned_at)) && typeof r.by === "string" &&
    Array.isArray(r.objects) && r.objects.every((o) => typeof o === "string");
  return valid ? r as CondemnedRecord : undefined;
}

/**
 * Encodes a record for the store.
 *
 * @example
 * ```ts
 * await store.put(key, encodeCondemnedRecord({ condemned_at, by, objects }));
 * ```
 */
export function encodeCondemnedRecord(record: CondemnedRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}

interface View {
  takenAt: number;
  objects: Promise<Set<string>>;
}

/** Per store location, the last view of the condemned objects. */
const views = new Map<string, View>();

/**
 * The objects condemned in `store`, as read at most {@linkcode condemnedViewMaxAgeMs} ago.
 * Reading them also makes this process stop reusing chunks from them, and check any other
 * object again before it names it (`chunk_locations.ts`).
 *
 * @example
 * ```ts
 * const condemned = await condemnedObjects(ctx.store); // at the start of a push
 * ```
 */
export function condemnedObjects(store: ObjectStore, now = Date.now()): Promise<Set<string>> {
  const view = views.get(store.location);
  if (view && now - view.takenAt < condemnedViewMaxAgeMs()) return view.objects;
  const objects = readCondemnedRecords(store).then((records) => {
    const all = new Set(records.flatMap(({ record }) => record.objects));
    restartObjectChecks(store.location, all);
    return all;
  });
  views.set(store.location, { takenAt: now, objects });
  // A failed read proves nothing: the next caller reads again.
  objects.catch(() => views.delete(store.location));
  return objects;
}

/**
 * Throws unless every pack (or chunk object) that `versions` name is free of condemnation,
 * by a view of the records fresh enough for the write that follows, and seen in the store
 * since that view was read (see the module doc).
 *
 * @example
 * ```ts
 * await assertNoneCondemned(ctx.store, versions); // just before a segment is written
 * ```
 */
export async function assertNoneCondemned(
  store: ObjectStore,
  versions: readonly FileVersion[],
): Promise<void> {
  const condemned = await condemnedObjects(store);
  const named = new Map<string, { path: string; ref: ChunkRef }>();
  for (const version of versions) {
    for (const ref of version.chunks) named.set(contentObjectKey(ref), { path: version.path, ref });
  }
  const gone = await Promise.all(
    [...named].map(async ([key, { path, ref }]) => {
      if (condemned.has(key)) return { path, key, why: "gc has condemned" };
      if (!await isStored(store, ref)) {
        return { path, key, why: "is no longer in the store (gc deleted it)" };
      }
      return undefined;
    }),
  );
  const first = gone.find((g) => g !== undefined);
  if (!first) return;
  throw new TcfsError(`${first.path} names ${first.key}, which ${first.why}: it was not written`, {
    kind: "content_condemned",
    hint:
      "push again: the next push uploads that content anew (gc found the pack unreferenced while this push was under way)",
  });
}

/**
 * Forgets the views of condemned objects, so the next look reads the records (after a gc
 * run in this process changed them).
 *
 * @example
 * ```ts
 * forgetCondemnedViews();
 * ```
 */
export function forgetCondemnedViews(): void {
  views.clear();
}
