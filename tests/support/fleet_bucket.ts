/**
 * A fresh bucket on the test SeaweedFS, for fleet tests: the device registry is per bucket, so
 * each test gets its own.
 *
 * @module
 */

import type { ObjectStore } from "../../core/store/object_store.ts";
import { servicesStoreEnv } from "./services_env.ts";
import { servicesStore } from "./services_store.ts";

/** A bucket for one test. */
export interface FleetBucket {
  bucket: string;
  /** The TCFS_S3_* variables that point a device home at it. */
  env: Record<string, string>;
  /** Opens the bucket directly (the S3 store creates it on first use). */
  openStore(): Promise<ObjectStore & AsyncDisposable>;
}

/**
 * Names a new bucket and the environment that selects it.
 *
 * @example
 * ```ts
 * const fleet = freshFleetBucket();
 * const a = await makeDeviceHome(tmp, "devA", fleet.env);
 * await using store = await fleet.openStore();
 * ```
 */
export function freshFleetBucket(): FleetBucket {
  const bucket = `fleet-${crypto.randomUUID().slice(0, 12)}`;
  return {
    bucket,
    env: servicesStoreEnv({ bucket }),
    openStore: () => openFleetBucket(bucket),
  };
}

/**
 * Opens `bucket` on the test SeaweedFS (creating it on first use): for a worker that was only
 * told the bucket's name.
 *
 * @example
 * ```ts
 * await using store = await openFleetBucket(fleet.bucket);
 * ```
 */
export async function openFleetBucket(bucket: string): Promise<ObjectStore & AsyncDisposable> {
  const store = servicesStore(bucket);
  await store.ensureReady();
  return Object.assign(store, { [Symbol.asyncDispose]: () => Promise.resolve(store.close()) });
}
