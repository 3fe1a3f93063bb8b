/**
 * Whether the store answers right now: what `/readyz` and `tcfs status` report.
 *
 * @module
 */

import type { ObjectStore } from "../core/store/object_store.ts";
import type { StorageStatus } from "./api/api_types.ts";

/** How long a probe may take before the store counts as unreachable. */
const PROBE_TIMEOUT_MS = 5_000;

/** A probe result, without the endpoint details. */
export type StorageProbeResult = Pick<StorageStatus, "reachable" | "checked_at" | "error">;

/** Probes one store and remembers the last result. */
export interface StorageProbe {
  /** Asks the store now (a HEAD of a key that need not exist). */
  probe(): Promise<StorageProbeResult>;
  /** The last result, without asking again. */
  last(): StorageProbeResult;
}

/**
 * Creates a probe for the store `current()` returns (the store changes on reload).
 *
 * @example
 * ```ts
 * const probe = createStorageProbe(() => store);
 * (await probe.probe()).reachable; // true
 * ```
 */
export function createStorageProbe(current: () => ObjectStore): StorageProbe {
  let last: StorageProbeResult = {
    reachable: false,
    checked_at: new Date().toISOString(),
    error: "not checked yet",
  };
  return {
    async probe() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)),
          PROBE_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([current().has("tcfs-meta/probe"), timeout]);
        last = { reachable: true, checked_at: new Date().toISOString() };
      } catch (err) {
        last = {
          reachable: false,
          checked_at: new Date().toISOString(),
          error: (err as Error).message,
        };
      } finally {
        clearTimeout(timer);
      }
      return last;
    },
    last: () => last,
  };
}
