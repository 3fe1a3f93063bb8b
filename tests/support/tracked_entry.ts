/**
 * A tracked row with plausible values, for tests of the state database.
 *
 * @module
 */

import type { TrackedEntry } from "../../core/state/state_db.ts";

/**
 * A synced file `path` in the default namespace of a made-up store, with any field replaced.
 *
 * @example
 * ```ts
 * state.putTracked(sampleTracked("docs/a.txt", { baseKey: "first" }));
 * ```
 */
export function sampleTracked(path: string, fields: Partial<TrackedEntry> = {}): TrackedEntry {
  return {
    namespace: "http://127.0.0.1:1/b#default",
    path,
    localPath: `/sync/${path}`,
    kind: "file",
    size: 3,
    mtimeMs: 1_700_000_000_000,
    ino: 7,
    mode: 0o644,
    blake3: "ab".repeat(32),
    racy: false,
    baseVclock: { device: 1 },
    baseKey: `ns/default/v/${path}/k-1.json`,
    syncedAt: "2026-01-01T00:00:00.000Z",
    ...fields,
  };
}
