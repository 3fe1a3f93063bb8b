/**
 * The daemon's mounts as `[mount] mounts` lists them: `"<mountpoint>"` mounts the namespace,
 * `"<mountpoint>=<remote>"` a remote prefix of it.
 *
 * @module
 */

import { isAbsolute } from "node:path";
import { TcfsError } from "../errors.ts";
import { parseRemoteSpec, type RemoteSpec } from "../remote/remote_spec.ts";

/** One configured mount. */
export interface ConfiguredMount {
  mountpoint: string;
  spec: RemoteSpec;
}

/**
 * Parses one `[mount] mounts` entry.
 *
 * @example
 * ```ts
 * parseConfiguredMount("/home/me/papers=tcfs/default/papers", "tcfs", "default");
 * // { mountpoint: "/home/me/papers", spec: { namespace: "default", rel: "papers" } }
 * ```
 */
export function parseConfiguredMount(
  entry: string,
  bucket: string,
  namespace: string,
): ConfiguredMount {
  const at = entry.indexOf("=");
  const mountpoint = at < 0 ? entry : entry.slice(0, at);
  if (!isAbsolute(mountpoint)) {
    throw new TcfsError(
      `[mount] mounts: ${JSON.stringify(entry)} does not start with an absolute path`,
      {
        kind: "config_invalid",
        hint: 'write "/home/me/fleet" or "/home/me/papers=tcfs/default/papers"',
      },
    );
  }
  const spec = at < 0 ? { namespace, rel: "" } : parseRemoteSpec(entry.slice(at + 1), bucket);
  return { mountpoint, spec };
}
