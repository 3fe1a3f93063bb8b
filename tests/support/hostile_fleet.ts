/**
 * Two CLI devices on one file:// store, and a way to write into that store what anyone
 * holding the bucket keys could: journal segments holding versions crafted field by field,
 * by a device named mallory.
 *
 * @module
 */

import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "./device_home.ts";
import type { FileVersion } from "../../core/remote/file_version.ts";
import type { Segment } from "../../core/journal/journal_codec.ts";
import { plantSegment } from "./journal_store.ts";
import { smallFileDigest } from "../../core/remote/file_digest.ts";
import { createFsStore } from "../../core/store/fs_store.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";

/** The fleet and its store; disposing it removes everything. */
export interface HostileFleet {
  tmp: string;
  store: ObjectStore;
  a: DeviceHome;
  b: DeviceHome;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Two devices on one file:// store, run under umask 022 (the children inherit it).
 *
 * @example
 * ```ts
 * await using fleet = await hostileFleet();
 * await plant(fleet.store, { path: "tool", mode: 0o6777 });
 * ```
 */
export async function hostileFleet(): Promise<HostileFleet> {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-hostile-" });
  const env = { TCFS_S3_ENDPOINT: `file://${tmp}/store` };
  const previousUmask = Deno.umask(0o022);
  return {
    tmp,
    store: createFsStore(join(tmp, "store")),
    a: await makeDeviceHome(tmp, "devA", env),
    b: await makeDeviceHome(tmp, "devB", env),
    async [Symbol.asyncDispose]() {
      Deno.umask(previousUmask);
      await Deno.remove(tmp, { recursive: true });
    },
  };
}

/**
 * Writes a version into the namespace `default` as a new device named mallory would (a small
 * inline shell script unless `fields` say otherwise), as the first segment of the author's
 * journal, or of `options.journal`'s; `options.segment` overrides the segment's own fields.
 * Returns the segment's key.
 *
 * @example
 * ```ts
 * await plant(store, { path: "tool", mode: 0o6777 });
 * ```
 */
export async function plant(
  store: ObjectStore,
  fields: Partial<FileVersion> & { path: string },
  options: { journal?: string; segment?: Partial<Segment> } = {},
): Promise<string> {
  const author = fields.author ?? crypto.randomUUID();
  const content = new TextEncoder().encode("#!/bin/sh\necho hi\n");
  const version: FileVersion = {
    format: 2,
    kind: "file",
    size: content.length,
    mode: 0o644,
    mtime_ms: Date.now(),
    blake3: await smallFileDigest(content),
    chunks: [],
    inline: btoa(String.fromCharCode(...content)),
    vclock: { [author]: 1 },
    author,
    author_name: "mallory",
    written_at: new Date().toISOString(),
    ...fields,
  };
  return await plantSegment(store, options.journal ?? author, [version], {
    fields: options.segment,
  });
}

/**
 * Plants a symlink version: `path` -> `target`, as mallory wrote it.
 *
 * @example
 * ```ts
 * await plantLink(store, "docs/esc", "../secret");
 * ```
 */
export function plantLink(store: ObjectStore, path: string, target: string): Promise<string> {
  return plant(store, { path, kind: "symlink", target, size: 0, blake3: "", inline: undefined });
}

/**
 * Every entry below `dir` with its kind and permission bits, links not followed: taken before
 * and after a pull, two snapshots of the folders around a target show anything written there.
 *
 * @example
 * ```ts
 * const before = await treeSnapshot(tmp);
 * ```
 */
export async function treeSnapshot(dir: string, skip: string[] = []): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (at: string) => {
    for await (const entry of Deno.readDir(at)) {
      const path = join(at, entry.name);
      if (skip.includes(path)) continue;
      const info = await Deno.lstat(path);
      const mode = (info.mode ?? 0) & 0o7777;
      found.set(
        path,
        `${info.isSymlink ? "link" : info.isDirectory ? "dir" : "file"} ${
          mode.toString(8)
        } ${info.size}`,
      );
      if (info.isDirectory) await walk(path);
    }
  };
  await walk(dir);
  return found;
}
