/**
 * Stores written by tcfs before version format 2 (a plain BLAKE3 of the file as
 * its digest) stay readable, and resolving a conflict against such a version
 * writes a format-2 version every device can restore. Such versions were written
 * before the journal too: they arrive through the upgrade of the old layout.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import { servicesStore } from "../support/services_store.ts";
import { blake3Hex } from "../../core/hashing/blake3.ts";
import { encodeFileVersion, type FileVersion } from "../../core/remote/file_version.ts";
import { journalMarkerKey, versionKey } from "../../core/remote/remote_keys.ts";
import { decodeCheckpoint } from "../../core/journal/journal_codec.ts";
import { legacyVersionKeys } from "../../core/journal/legacy_versions.ts";
import type { PullSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("a format 1 version wins a conflict with --keep-remote, and the result restores everywhere", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-format1-" });
  const env = servicesStoreEnv({ namespacePrefix: "format1" });
  const remote = `${env.TCFS_S3_BUCKET}/${env.TCFS_NAMESPACE}/legacy.txt`;
  const legacy = new TextEncoder().encode("written by an older tcfs\n");
  const author = crypto.randomUUID();
  const version: FileVersion = {
    format: 1,
    path: "legacy.txt",
    kind: "file",
    size: legacy.length,
    mode: 0o644,
    mtime_ms: Date.now(),
    blake3: await blake3Hex(legacy),
    chunks: [],
    inline: btoa(String.fromCharCode(...legacy)),
    vclock: { [author]: 1 },
    author,
    author_name: "old-laptop",
    written_at: new Date().toISOString(),
  };
  {
    using store = servicesStore();
    await store.put(
      await versionKey(env.TCFS_NAMESPACE, "legacy.txt", author, 1),
      encodeFileVersion(version),
    );
  }
  const b = await makeDeviceHome(tmp, "devB", env);
  const local = join(b.home, "legacy.txt");
  await Deno.writeTextFile(local, "B's own, never synced\n");
  const pulled = await b.tcfs(["pull", remote, local]);
  assert.equal(pulled.code, 3, pulled.stderr);
  {
    // B's pull upgraded the namespace: the version left the old layout for the base checkpoint.
    using store = servicesStore();
    const marker = await store.get(journalMarkerKey(env.TCFS_NAMESPACE));
    const { base } = JSON.parse(new TextDecoder().decode(marker!));
    const checkpoint = await decodeCheckpoint((await store.get(base))!, base, undefined);
    assert.deepEqual(checkpoint.versions, [version]);
    assert.deepEqual(await legacyVersionKeys(store, env.TCFS_NAMESPACE), []);
  }
  const resolved = await b.tcfs(["resolve-conflict", local, "--keep-remote"]);
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.deepEqual(await Deno.readFile(local), legacy);

  const c = await makeDeviceHome(tmp, "devC", env);
  const copy = join(c.home, "legacy.txt");
  const fresh = await c.tcfsJson<PullSummary>(["pull", remote, copy]);
  assert.equal(fresh.files, 1);
  assert.deepEqual(await Deno.readFile(copy), legacy);
  await Deno.remove(tmp, { recursive: true });
});
