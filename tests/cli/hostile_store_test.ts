/**
 * Whatever anyone holding the bucket keys writes into the store lands with no
 * more power than a file the user creates here: no privilege bits, no allocation
 * beyond what the format allows. Versions are crafted straight into a file:// store
 * and pulled through the real CLI.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import {
  encodeFileVersion,
  type FileVersion,
  MAX_VERSION_BYTES,
} from "../../core/remote/file_version.ts";
import { packKey, versionKey } from "../../core/remote/remote_keys.ts";
import { smallFileDigest } from "../../core/remote/file_digest.ts";
import { createFsStore } from "../../core/store/fs_store.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";

interface HostileFleet {
  tmp: string;
  store: ObjectStore;
  a: DeviceHome;
  b: DeviceHome;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Two devices on one file:// store, run under umask 022 (the children inherit it). */
async function hostileFleet(): Promise<HostileFleet> {
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

/** Writes `version` into the store as a device named mallory would; returns its key. */
async function plant(store: ObjectStore, fields: Partial<FileVersion> & { path: string }) {
  const author = crypto.randomUUID();
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
  const key = await versionKey("default", version.path, author, 1);
  await store.put(key, encodeFileVersion(version));
  return key;
}

Deno.test("a crafted version with mode 6777 lands without setuid, setgid or sticky, through umask 022", async () => {
  await using fleet = await hostileFleet();
  await plant(fleet.store, { path: "tool", mode: 0o6777 });
  await plant(fleet.store, { path: "sticky", mode: 0o1666 });
  const dest = join(fleet.b.home, "got");
  await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/", dest]);
  assert.equal((await Deno.stat(join(dest, "tool"))).mode! & 0o7777, 0o755);
  assert.equal((await Deno.stat(join(dest, "sticky"))).mode! & 0o7777, 0o644);
});

Deno.test("a file pushed with chmod 6777 is pulled as 0755 on the other device", async () => {
  await using fleet = await hostileFleet();
  const source = join(fleet.a.home, "suid");
  await Deno.writeTextFile(source, "#!/bin/sh\nid\n");
  await Deno.chmod(source, 0o6777);
  await fleet.a.tcfsJson<PushSummary>(["push", source, "tcfs/default/suid"]);
  const dest = join(fleet.b.home, "suid");
  await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/suid", dest]);
  assert.equal((await Deno.stat(dest)).mode! & 0o7777, 0o755);
});

Deno.test("a chunk ref 2^40 bytes long fails the pull of its path, clearly, and allocates nothing", async () => {
  await using fleet = await hostileFleet();
  await plant(fleet.store, { path: "fine.txt" });
  const chunk = { id: "a".repeat(64), size: 1024, pack: "b".repeat(32), offset: 0 };
  await fleet.store.put(packKey("b".repeat(32)), new Uint8Array(2048));
  await plant(fleet.store, {
    path: "huge.bin",
    size: 1024,
    inline: undefined,
    chunks: [{ ...chunk, length: 2 ** 40 }],
  });
  await plant(fleet.store, {
    path: "negative.bin",
    size: 1024,
    inline: undefined,
    chunks: [{ ...chunk, offset: -1, length: 100 }],
  });
  const dest = join(fleet.b.home, "got");
  const result = await fleet.b.tcfs(["pull", "tcfs/default/", dest, "--json"]);
  assert.equal(result.code, 1, result.stderr);
  const summary = JSON.parse(result.stdout) as PullSummary;
  assert.equal(summary.files, 1);
  assert.equal(summary.failures.length, 2, JSON.stringify(summary.failures));
  for (const failure of summary.failures) {
    assert.match(JSON.stringify(failure), /unreadable: chunks is not a list .*length ≤ \d+/);
  }
  assert.ok((await Deno.stat(join(dest, "fine.txt"))).isFile);
});

Deno.test("a version object over the size cap is refused unread", async () => {
  await using fleet = await hostileFleet();
  const key = await plant(fleet.store, { path: "padded.txt" });
  // Sparse: the cap plus one byte, taking no disk.
  await Deno.truncate(join(fleet.tmp, "store", key), MAX_VERSION_BYTES + 1);
  const result = await fleet.b.tcfs(["pull", "tcfs/default/padded.txt", join(fleet.b.home, "p")]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`holds ${MAX_VERSION_BYTES + 1} bytes, more than the`));
});
