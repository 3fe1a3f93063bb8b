/**
 * The fleet index `tcfs-meta/devices.json` that the deployment guide names: a copy of every
 * registration in one object, for people and tools that want the fleet in one read. tcfs never
 * trusts it; it is rebuilt from the registrations after every enrollment and revocation, and
 * whenever `tcfs device list` finds it stale or damaged.
 *
 * Concurrent rebuilds converge: each attempt reads the index's etag *before* listing the
 * registrations, and writes only if the index still has that etag. So the last successful
 * write listed after every earlier write had finished, and each of those writers had
 * registered before it wrote. A rebuilder that loses the race lists again and retries, and
 * stops as soon as the index already says what it would write.
 *
 * @module
 */

import type { ObjectStore } from "../store/object_store.ts";
import { DEVICES_INDEX_KEY } from "../remote/remote_keys.ts";
import { encodeRegistryJson } from "./device_record.ts";
import { type FleetListing, listDevices } from "./device_registry.ts";

/** Some 30,000 device entries: far past any fleet, and all a rebuild reads of the index. */
const MAX_INDEX_BYTES = 16 * 1024 * 1024;

/** How a rebuild went. */
export interface IndexRebuild {
  /** The fleet as the last attempt listed it. */
  fleet: FleetListing;
  /** True when the index now holds that listing (written here, or already so). */
  current: boolean;
  /** True when this call wrote the index. */
  written: boolean;
  /** How many attempts it took. */
  attempts: number;
}

/** Options for {@linkcode rebuildDeviceIndex}. */
export interface IndexRebuildOptions {
  /** Give up after this many lost races (default 20). */
  attempts?: number;
}

/**
 * Brings the fleet index in line with the registrations. A damaged index is simply replaced.
 * Losing every race is not an error (`current: false`): the registrations stay the truth and
 * the next rebuild catches up.
 *
 * @example
 * ```ts
 * const { fleet, written } = await rebuildDeviceIndex(store);
 * ```
 */
export async function rebuildDeviceIndex(
  store: ObjectStore,
  options: IndexRebuildOptions = {},
): Promise<IndexRebuild> {
  const maxAttempts = options.attempts ?? 20;
  for (let attempt = 1;; attempt++) {
    const existing = await store.getWithEtag(DEVICES_INDEX_KEY, { maxBytes: MAX_INDEX_BYTES });
    const fleet = await listDevices(store);
    const body = encodeRegistryJson({ format: 1, devices: fleet.devices });
    if (existing && sameBytes(existing.body, body)) {
      return { fleet, current: true, written: false, attempts: attempt };
    }
    const written = await store.putConditional(
      DEVICES_INDEX_KEY,
      body,
      existing ? { ifMatch: existing.etag } : { ifNoneMatch: "*" },
    );
    if (written || attempt >= maxAttempts) {
      return { fleet, current: written, written, attempts: attempt };
    }
    // Spread the retries out so ten enrollments at once don't keep colliding.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.random() * Math.min(1000, 25 << attempt))
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
