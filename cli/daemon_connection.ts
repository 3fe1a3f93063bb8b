/**
 * Reaching the daemon from a command: when one answers on the configured socket, the command
 * asks it to do the work (so its events go out through the daemon's one NATS connection);
 * otherwise the command does the work itself.
 *
 * @module
 */

import type { TcfsConfig } from "../core/config/config_schema.ts";
import type { RemoteSpec } from "../core/remote/remote_spec.ts";
import {
  type ControlClient,
  createControlClient,
  daemonAvailable,
} from "../daemon/api/control_client.ts";

/**
 * A client for the daemon on `config.daemon.socket`, or `undefined` when none answers (or
 * `TCFS_NO_DAEMON` is set, to force the command to work on its own).
 *
 * @example
 * ```ts
 * using daemon = await runningDaemon(config);
 * const summary = daemon ? await daemon.push({ path }) : await push(ctx, request);
 * ```
 */
export async function runningDaemon(
  config: TcfsConfig,
): Promise<(ControlClient & Disposable) | undefined> {
  if (Deno.env.get("TCFS_NO_DAEMON")) return undefined;
  if (!await daemonAvailable(config.daemon.socket)) return undefined;
  return createControlClient(config.daemon.socket);
}

/**
 * Writes a parsed remote path back as `<bucket>/<namespace>/<path>`, for the daemon to parse
 * against its own configured bucket.
 *
 * @example
 * ```ts
 * remoteSpecText("tcfs", { namespace: "default", rel: "docs/a.txt" }); // "tcfs/default/docs/a.txt"
 * ```
 */
export function remoteSpecText(bucket: string, spec: RemoteSpec): string {
  return `${bucket}/${spec.namespace}/${spec.rel}`;
}
