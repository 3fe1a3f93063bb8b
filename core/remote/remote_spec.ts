/**
 * Remote paths as people write them: `<bucket>/<namespace>/<path…>`, e.g.
 * `tcfs/default/report.pdf` as the seed guide writes it.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import { assertNamespace } from "./remote_keys.ts";
import { unsafePathReason } from "../paths/remote_path.ts";

/** A parsed remote path. */
export interface RemoteSpec {
  namespace: string;
  /** Path below the namespace; "" means the whole namespace. */
  rel: string;
}

/**
 * Parses `spec` against the configured bucket.
 *
 * @example
 * ```ts
 * parseRemoteSpec("tcfs/default/docs/a.txt", "tcfs"); // { namespace: "default", rel: "docs/a.txt" }
 * parseRemoteSpec("tcfs/default/", "tcfs"); // { namespace: "default", rel: "" }
 * ```
 */
export function parseRemoteSpec(spec: string, bucket: string): RemoteSpec {
  const trimmed = spec.replace(/^\/+/, "").replace(/\/+$/, "");
  const [first, namespace, ...rest] = trimmed.split("/");
  const usage = (why: string) =>
    new TcfsError(`remote path ${JSON.stringify(spec)} ${why}`, {
      exitCode: 2,
      kind: "usage",
      hint: `write it as <bucket>/<namespace>/<path>, e.g. ${bucket}/default/report.pdf`,
    });
  if (first !== bucket) {
    throw usage(
      first && namespace !== undefined
        ? `names bucket '${first}', but the configured bucket is '${bucket}' (set [storage] bucket or TCFS_S3_BUCKET)`
        : "does not start with the bucket",
    );
  }
  if (!namespace) throw usage("has no namespace");
  assertNamespace(namespace);
  const rel = rest.join("/");
  const reason = rel === "" ? undefined : unsafePathReason(rel);
  if (reason) throw usage(`is not a valid path: it ${reason}`);
  return { namespace, rel };
}

/**
 * Parses `spec` like {@linkcode parseRemoteSpec}, or, when none was given, names the whole
 * configured `namespace`.
 *
 * @example
 * ```ts
 * remoteSpecOrRoot(undefined, "tcfs", "default"); // { namespace: "default", rel: "" }
 * ```
 */
export function remoteSpecOrRoot(
  spec: string | undefined,
  bucket: string,
  namespace: string,
): RemoteSpec {
  return spec ? parseRemoteSpec(spec, bucket) : { namespace, rel: "" };
}
