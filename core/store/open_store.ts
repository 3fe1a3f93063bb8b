/**
 * Picks the backend for a configured endpoint: nothing means the embedded
 * directory store, `file:///dir` a directory store elsewhere (a shared mount,
 * say), and `http(s)://` an S3 server.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { TcfsError } from "../errors.ts";
import { createFsStore } from "./fs_store.ts";
import type { ObjectStore } from "./object_store.ts";
import { type RetryOptions, withRetry } from "./retrying_store.ts";
import { createS3Store, type S3StoreOptions } from "./s3_store.ts";

/** The storage settings a store is opened from. */
export interface StoreTarget {
  /** Empty or undefined, `file:///dir`, or `http(s)://host[:port]`. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** The embedded default, `$XDG_DATA_HOME/tcfs/store`; used when no endpoint is set. */
  defaultStoreDir: string;
  /** Needed for an S3 endpoint, ignored otherwise. */
  credentials?: S3StoreOptions["credentials"];
  /** How S3 calls are retried. */
  retry?: RetryOptions;
}

const ACCEPTED_FORMS =
  "leave it empty for the local store, or use file:///absolute/dir or http(s)://host:port";

/** S3's bucket naming rules, in the part every S3 server agrees on. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Opens the store `target` describes. It makes no request; call
 * {@linkcode ObjectStore.ensureReady} before first use.
 *
 * @example
 * ```ts
 * const store = openStore({
 *   endpoint: Deno.env.get("TCFS_S3_ENDPOINT"),
 *   bucket: "tcfs",
 *   region: "us-east-1",
 *   defaultStoreDir: "/home/me/.local/share/tcfs/store",
 *   credentials: { accessKeyId: "…", secretAccessKey: "…" },
 * });
 * ```
 */
export function openStore(target: StoreTarget): ObjectStore {
  const endpoint = target.endpoint?.trim() ?? "";
  if (endpoint === "") return createFsStore(target.defaultStoreDir);
  const url = URL.parse(endpoint);
  if (url?.protocol === "file:") return createFsStore(directoryOf(url, endpoint));
  if (url?.protocol !== "http:" && url?.protocol !== "https:") {
    throw new TcfsError(`storage endpoint ${JSON.stringify(endpoint)} is not supported`, {
      kind: "config_invalid",
      hint: `set [storage] endpoint or TCFS_S3_ENDPOINT: ${ACCEPTED_FORMS}`,
    });
  }
  if (!BUCKET_NAME.test(target.bucket)) {
    throw new TcfsError(`bucket name ${JSON.stringify(target.bucket)} is not a valid S3 bucket`, {
      kind: "config_invalid",
      hint:
        "set [storage] bucket or TCFS_S3_BUCKET to 3–63 lowercase letters, digits, dots or hyphens",
    });
  }
  if (!target.credentials) {
    throw new TcfsError(`no S3 credentials for ${url.origin}`, {
      kind: "credentials_missing",
      hint:
        "set TCFS_S3_ACCESS and TCFS_S3_SECRET (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or add them to ~/.config/tcfs/secrets.yaml",
    });
  }
  return withRetry(
    createS3Store({
      endpoint,
      bucket: target.bucket,
      region: target.region,
      credentials: target.credentials,
    }),
    target.retry,
  );
}

function directoryOf(url: URL, endpoint: string): string {
  if (url.host !== "" && url.host !== "localhost") {
    throw new TcfsError(`storage endpoint ${endpoint} names host "${url.host}"`, {
      kind: "config_invalid",
      hint: "a file endpoint takes an absolute local path with three slashes: file:///absolute/dir",
    });
  }
  return fileURLToPath(url);
}
