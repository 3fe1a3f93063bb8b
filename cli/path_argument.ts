/**
 * A path argument that may name a remote path or a local one, as `tcfs log`, `tcfs restore`
 * and `tcfs resolve-conflict` take it: `<bucket>/<namespace>/<path>` when it starts with the
 * configured bucket, else a local file or folder, which maps to the remote path as a push of
 * it would (its place under the sync root, else its own name).
 *
 * @module
 */

import { resolve } from "node:path";
import type { TcfsConfig } from "../core/config/config_schema.ts";
import { parseRemoteSpec, type RemoteSpec } from "../core/remote/remote_spec.ts";
import { defaultRemoteRel } from "../core/sync/root_mapping.ts";

/** Where a path argument points. */
export interface PathArgument extends RemoteSpec {
  /** The absolute local path, when the argument was a local one. */
  local?: string;
}

/**
 * Reads `arg` as a remote path or a local one.
 *
 * @example
 * ```ts
 * pathArgument("tcfs/default/notes.txt", config); // { namespace: "default", rel: "notes.txt" }
 * pathArgument("/home/me/Sync/notes.txt", config); // { namespace: "default", rel: "notes.txt", local: "/home/me/Sync/notes.txt" }
 * ```
 */
export function pathArgument(arg: string, config: TcfsConfig): PathArgument {
  const { bucket } = config.storage;
  if (arg.startsWith(`${bucket}/`)) return parseRemoteSpec(arg, bucket);
  const local = resolve(arg);
  return {
    namespace: config.sync.namespace,
    rel: defaultRemoteRel(local, config.sync.syncRoot),
    local,
  };
}
