import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { stateRows } from "../support/state_rows.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import { servicesStore } from "../support/services_store.ts";
import { randomBytes } from "../support/random_bytes.ts";
import { encodeFileVersion, type FileVersion } from "../../core/remote/file_version.ts";
import { versionKey } from "../../core/remote/remote_keys.ts";
import { smallFileDigest } from "../../core/remote/file_digest.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("the version cache remembers which old-layout versions were read, not their content, and reads each once", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-vcache-" });
  const env = servicesStoreEnv({ namespacePrefix: "vcache" });
  const namespace = env.TCFS_NAMESPACE;
  const a = await makeDeviceHome(tmp, "devA", env);
  const b = await makeDeviceHome(tmp, "devB", env);
  const remote = `${env.TCFS_S3_BUCKET}/${namespace}/notes`;
  const folder = join(a.home, "notes");
  await Deno.mkdir(folder);
  await Deno.writeTextFile(join(folder, "first.txt"), "pushed by this tcfs\n");
  await a.tcfsJson<PushSummary>(["push", folder, remote]);

  // The namespace keeps journals now; a device still on an older tcfs writes the old layout.
  const secretish = "small files travel inside their version\n";
  const content = new TextEncoder().encode(secretish);
  const author = crypto.randomUUID();
  const straggler: FileVersion = {
    format: 2,
    path: "notes/small.txt",
    kind: "file",
    size: content.length,
    mode: 0o644,
    mtime_ms: Date.now(),
    blake3: await smallFileDigest(content),
    chunks: [],
    inline: btoa(secretish),
    vclock: { [author]: 1 },
    author,
    author_name: "old-tcfs",
    written_at: new Date().toISOString(),
  };
  using store = servicesStore();
  const key = await versionKey(namespace, straggler.path, author, 1);
  await store.put(key, encodeFileVersion(straggler));

  const pulled = await b.tcfsJson<PullSummary>(["pull", remote, join(b.home, "notes")]);
  assert.equal(pulled.files, 2);
  assert.equal(await Deno.readTextFile(join(b.home, "notes", "small.txt")), secretish);
  const cached = stateRows(b.home, "SELECT key, body FROM version_cache");
  assert.deepEqual(cached.map((row) => String(row.key).endsWith(`#${key}`)), [true]);
  assert.deepEqual([...cached[0].body as Uint8Array], [1], "a mark, not the version's content");

  // Read once: what lies under the key afterwards is never fetched again.
  await store.put(key, randomBytes(500, 7));
  const again = await b.tcfsJson<PullSummary>(["pull", remote, join(b.home, "notes")]);
  assert.deepEqual(again.failures, []);
  assert.equal(await Deno.readTextFile(join(b.home, "notes", "small.txt")), secretish);
  await Deno.remove(tmp, { recursive: true });
});
