/**
 * Reaching the daemon from a command: when one answers on the configured socket, the command
 * asks it to do the work (so its events go out through the daemon's one NATS connection);
 * otherwise the command does the work itself.
 *
 * @module
 */

import type { TcfsConfig } from "../core/config/config_schema.ts";
import type { ProgressBar } from "./progress_bar.ts";
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

/**
 * Runs a push or pull through the daemon with `bar` drawn from the daemon's `progress` lines
 * for it: `run` gets the transfer name to put in its request. Without an active bar the
 * request goes without a name, and no lines are sent. A dropped event stream only stops the
 * bar, never the transfer.
 *
 * @example
 * ```ts
 * const summary = await withDaemonProgress(daemon, bar, (transfer) => daemon.push({ path, transfer }));
 * ```
 */
export async function withDaemonProgress<T>(
  daemon: ControlClient,
  bar: ProgressBar,
  run: (transfer?: string) => Promise<T>,
): Promise<T> {
  if (!bar.active) return await run();
  const transfer = crypto.randomUUID();
  const stop = new AbortController();
  const subscribed = Promise.withResolvers<void>();
  const watching = (async () => {
    for await (const line of daemon.events(stop.signal)) {
      subscribed.resolve();
      if (line.kind === "progress" && line.transfer === transfer) {
        bar.update({
          filesDone: line.files_done,
          filesTotal: line.files_total,
          bytesDone: line.bytes_done,
          bytesTotal: line.bytes_total,
        });
      }
    }
  })().catch(() => {}).finally(() => subscribed.resolve());
  // Lines sent before the subscription would be missed.
  await subscribed.promise;
  try {
    return await run(transfer);
  } finally {
    stop.abort();
    await watching;
    bar.done();
  }
}
