/**
 * The two stores a CLI test runs against: a `file://` directory and the SeaweedFS the
 * services script starts, each giving the device environment, the namespace and bucket a test
 * names remote paths with, and a direct handle on the store for checking or damaging objects.
 *
 * @module
 */

import { join } from "node:path";
import { createFsStore } from "../../core/store/fs_store.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { servicesEnv, servicesStoreEnv } from "./services_env.ts";
import { servicesStore } from "./services_store.ts";

/** One store set up for a test. */
export interface CliStoreTarget {
  env: Record<string, string>;
  namespace: string;
  bucket: string;
  store(): ObjectStore & Disposable;
}

/** A store kind a test runs against. */
export interface CliStoreBackend {
  name: string;
  setup(tmp: string): CliStoreTarget;
}

/**
 * The `file://` and SeaweedFS backends, with namespaces named after `namespace`. With
 * `ownBucket`, each SeaweedFS setup gets a bucket of its own (`<namespace>-<random>`): gc
 * deletes whatever no namespace of its bucket names, so a gc test must not share one with
 * tests pushing at the same time.
 *
 * @example
 * ```ts
 * for (const backend of cliStoreBackends("check")) {
 *   Deno.test(`${backend.name}: …`, async () => {
 *     const target = backend.setup(tmp);
 *   });
 * }
 * ```
 */
export function cliStoreBackends(
  namespace: string,
  options: { ownBucket?: boolean } = {},
): CliStoreBackend[] {
  return [
    {
      name: "file://",
      setup: (tmp) => {
        const dir = join(tmp, "store");
        return {
          env: { TCFS_S3_ENDPOINT: `file://${dir}`, TCFS_NAMESPACE: namespace },
          namespace,
          bucket: "tcfs",
          store: () => Object.assign(createFsStore(dir), { [Symbol.dispose]() {} }),
        };
      },
    },
    {
      name: "SeaweedFS",
      setup: () => {
        const bucket = options.ownBucket
          ? `${namespace}-${crypto.randomUUID().slice(0, 12)}`
          : servicesEnv().s3Bucket;
        const env = servicesStoreEnv({ namespacePrefix: namespace, bucket });
        return {
          env,
          namespace: env.TCFS_NAMESPACE,
          bucket,
          store: () => servicesStore(bucket),
        };
      },
    },
  ];
}
