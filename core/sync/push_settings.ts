/**
 * The parts of a push request that come from the config and the user's flags rather than
 * from what is pushed: the sync root whose marker it needs, the mass-delete limits, and
 * whether it is a dry run. The CLI, the control API and the daemon's loop build them alike.
 *
 * @module
 */

import type { SyncConfig } from "../config/config_schema.ts";
import type { PushRequest } from "./push.ts";
import { massDeleteLimits } from "./deletion_guard.ts";

/** What the user asked for on this push. */
export interface PushFlags {
  dryRun?: boolean;
  allowMassDelete?: boolean;
}

/**
 * The request fields `sync` and `flags` settle.
 *
 * @example
 * ```ts
 * await push(ctx, { localPath, remoteRel, excludes, ...pushSettings(config.sync, { dryRun: true }) });
 * ```
 */
export function pushSettings(
  sync: SyncConfig,
  flags: PushFlags = {},
): Pick<PushRequest, "syncRoot" | "massDelete" | "allowMassDelete" | "dryRun"> {
  return {
    syncRoot: sync.syncRoot,
    massDelete: massDeleteLimits(sync),
    allowMassDelete: flags.allowMassDelete ?? false,
    dryRun: flags.dryRun ?? false,
  };
}
