/**
 * A format 3 version of one chunk, placed in a sealed pack: for tests of reading sealed content
 * without a whole device.
 *
 * @module
 */

import type { FleetKeys } from "../../core/crypto/fleet_keys.ts";
import { fileDigest } from "../../core/remote/file_digest.ts";
import type { ChunkRef, FileVersion } from "../../core/remote/file_version.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { createPackWriter } from "../../core/sync/pack_writer.ts";

/**
 * Places `bytes` as the chunk `id` in a sealed pack of `store`, and returns a format 3 version
 * of `path` that names it, with the chunk's ref. `id` need not be the chunk's true id: a test
 * may name it wrongly on purpose.
 *
 * @example
 * ```ts
 * const { version, ref } = await sealedVersion(store, keys, "x.txt", id, bytes);
 * ```
 */
export async function sealedVersion(
  store: ObjectStore,
  keys: FleetKeys,
  path: string,
  id: string,
  bytes: Uint8Array,
): Promise<{ version: FileVersion; ref: ChunkRef }> {
  const packs = createPackWriter(store, { keys });
  const placed = await packs.place(id, bytes);
  packs.flush();
  await placed.durable;
  const version: FileVersion = {
    format: 3,
    path,
    kind: "file",
    size: bytes.length,
    mode: 0o644,
    mtime_ms: 0,
    blake3: await fileDigest([placed.ref]),
    chunks: [placed.ref],
    vclock: { device: 1 },
    author: "device",
    author_name: "alpha",
    written_at: new Date().toISOString(),
  };
  return { version, ref: placed.ref };
}
