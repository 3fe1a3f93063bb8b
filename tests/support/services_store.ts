/**
 * Direct access to the test bucket, for tests that inspect or damage objects.
 *
 * @module
 */

import { createS3Store } from "../../core/store/s3_store.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { servicesEnv } from "./services_env.ts";

/**
 * Opens the services SeaweedFS bucket (or `bucket` on it) as an ObjectStore.
 *
 * @example
 * ```ts
 * using store = servicesStore();
 * ```
 */
export function servicesStore(bucket?: string): ObjectStore & Disposable {
  const s = servicesEnv();
  const store = createS3Store({
    endpoint: s.s3Endpoint,
    bucket: bucket ?? s.s3Bucket,
    region: "us-east-1",
    credentials: { accessKeyId: s.s3Access, secretAccessKey: s.s3Secret },
  });
  return Object.assign(store, { [Symbol.dispose]: () => store.close() });
}
