/**
 * Tells a store apart from an emptied or replaced one at the same address.
 *
 * A device remembers, per store address, what it synced (tracked paths), where
 * chunks lie (chunk locations and fingerprints) and version bodies it read. A
 * bucket deleted and created again under the same name, or a store folder
 * wiped, keeps the address but none of the objects: a push would then name
 * packs that no longer exist, skip files it believes synced, and counters that
 * restart at 1 would reuse version keys the device has cached. So each store
 * holds a random id (`tcfs-meta/store-id`), written by the first device that
 * finds none, and each device records the id it last synced with. When the two
 * differ, the device forgets what it knew about the old store (chunk locations,
 * fingerprints, cached versions) and unlinks its tracked paths from their remote
 * versions while keeping what it knows of the local copies: a push then uploads
 * every file again, and a pull replaces only local copies unchanged since their
 * last sync (a changed one is a conflict, as ever).
 *
 * The id is written only if absent, where the store honours that. Where it does
 * not, two devices that both find no id may each write one and the last write
 * stays; a device that read the other id back in between then resets its state
 * once more than it had to: re-uploads and rehashes, never a loss.
 *
 * @module
 */

import { forgetStoreJournals } from "../journal/folded_versions.ts";
import { TcfsError } from "../errors.ts";
import type { ObjectStore } from "../store/object_store.ts";
import type { StateDb } from "./state_db.ts";
import { STORE_ID_KEY } from "../remote/remote_keys.ts";
import { forgetChunkLocations } from "./chunk_locations.ts";
import { forgetChunkPrints } from "./chunk_prints.ts";
import { storeFilingPrefix } from "./store_filing.ts";

/** What {@linkcode checkStoreIdentity} found. */
export type StoreIdentityCheck =
  /** The store this device last synced with. */
  | "same"
  /** A store this device had not recorded an id for (first use, or an older tcfs). */
  | "recorded"
  /** A different store at the same address: this device's state for it was reset. */
  | "replaced";

/**
 * Compares the store's id with the one this device recorded, creating the id if
 * the store has none, and resets the device's state for the address if they
 * differ.
 *
 * @example
 * ```ts
 * if (await checkStoreIdentity(ctx.state, ctx.store) === "replaced") {
 *   console.warn("the store was emptied or replaced; comparing every file afresh");
 * }
 * ```
 */
export async function checkStoreIdentity(
  state: StateDb,
  store: ObjectStore,
): Promise<StoreIdentityCheck> {
  const metaKey = `store-id:${store.location}`;
  const recorded = state.getMeta(metaKey);
  let current = await readStoreId(store);
  if (current === undefined) {
    const id = new TextEncoder().encode(`${crypto.randomUUID()}\n`);
    await store.putConditional(STORE_ID_KEY, id, { ifNoneMatch: "*" });
    // Another device may have written its id first; the store's is the one.
    current = await readStoreId(store);
    if (current === undefined) {
      throw new Error(`${STORE_ID_KEY} vanished right after it was written`);
    }
  }
  if (current === recorded) return "same";
  if (recorded !== undefined) forgetStore(state, store.location);
  state.setMeta(metaKey, current);
  return recorded === undefined ? "recorded" : "replaced";
}

/**
 * What an id may be: tcfs writes a UUID. Anything else is refused rather than recorded, since
 * a value the state database keeps differently (NUL cuts it short) would look like a replaced
 * store at every check and reset the device's state each time.
 */
const STORE_ID = /^[\x21-\x7e]{1,128}$/;

async function readStoreId(store: ObjectStore): Promise<string | undefined> {
  // A store id is a UUID; a bigger object is refused unread.
  const bytes = await store.get(STORE_ID_KEY, { maxBytes: 1024 });
  if (bytes === undefined) return undefined;
  const id = new TextDecoder().decode(bytes).trim();
  if (STORE_ID.test(id)) return id;
  throw new TcfsError(
    `${STORE_ID_KEY} in ${store.location} is damaged: it holds ${bytes.length} bytes that are ` +
      "not a store id",
    {
      kind: "store_id_invalid",
      hint: `delete ${STORE_ID_KEY} from the store; the next device to sync writes a new id ` +
        "(every device then compares its files with the store afresh, nothing is lost)",
    },
  );
}

/** Drops what the device knew about the store at `location`, keeping its local copies' records. */
function forgetStore(state: StateDb, location: string): void {
  state.unlinkFromStore(location);
  forgetStoreJournals(state, storeFilingPrefix(location));
  forgetChunkPrints(state, location);
  forgetChunkLocations(state, location);
}
