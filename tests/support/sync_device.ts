/**
 * A device for in-process sync tests: its own sync root and state db in a temp
 * folder, and a SyncContext on a store the test shares between devices (often
 * a memory store behind the fault decorator).
 *
 * @module
 */

import { join } from "node:path";
import { StateDb } from "../../core/state/state_db.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import type { ConflictMode } from "../../core/config/config_schema.ts";
import type { SyncContext } from "../../core/sync/sync_context.ts";
import { push } from "../../core/sync/push.ts";
import { pull } from "../../core/sync/pull.ts";
import { createMemoryStore } from "./memory_store.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** One in-process device. */
export interface SyncDevice extends Disposable {
  ctx: SyncContext;
  /** Its sync root (created empty). */
  root: string;
  /** Pushes the whole sync root to the namespace root. */
  pushAll(): Promise<PushSummary>;
  /** Pulls the whole namespace into the sync root. */
  pullAll(): Promise<PullSummary>;
}

/**
 * Opens a device named `name` under `parent`, syncing with `store`.
 *
 * @example
 * ```ts
 * using a = await openSyncDevice(tmp, "alpha", store);
 * await Deno.writeTextFile(join(a.root, "x.txt"), "x");
 * await a.pushAll();
 * ```
 */
export async function openSyncDevice(
  parent: string,
  name: string,
  store: ObjectStore,
  conflictMode: ConflictMode = "interactive",
): Promise<SyncDevice> {
  const home = join(parent, name);
  const root = join(home, "Sync");
  await Deno.mkdir(root, { recursive: true });
  const state = await StateDb.open(join(home, "state.db"));
  const ctx: SyncContext = {
    store,
    state,
    device: { id: crypto.randomUUID(), name },
    bucket: "tcfs",
    namespace: "default",
    conflictMode,
  };
  return {
    ctx,
    root,
    pushAll: () => push(ctx, { localPath: root, remoteRel: "", excludes: [] }),
    pullAll: () => pull(ctx, { remoteRel: "", localTarget: root }),
    [Symbol.dispose]: () => state.close(),
  };
}

/** Two devices on one memory store, in a temp folder removed at the end. */
export interface TwoDevices {
  alpha: SyncDevice;
  bravo: SyncDevice;
  /** The temp folder the devices live in, for the test's own files. */
  tmp: string;
}

/**
 * Runs `work` with devices alpha and bravo syncing through a fresh memory store, then closes
 * them and removes their folder.
 *
 * @example
 * ```ts
 * await withTwoDevices("tcfs-edit-", async ({ alpha, bravo }) => {
 *   await Deno.writeTextFile(join(alpha.root, "a.txt"), "a");
 *   await alpha.pushAll();
 *   await bravo.pullAll();
 * });
 * ```
 */
export async function withTwoDevices(
  prefix: string,
  work: (devices: TwoDevices) => Promise<void>,
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix });
  const store = createMemoryStore();
  try {
    using alpha = await openSyncDevice(tmp, "alpha", store);
    using bravo = await openSyncDevice(tmp, "bravo", store);
    await work({ alpha, bravo, tmp });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}
