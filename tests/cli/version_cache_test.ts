import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { stateRows } from "../support/state_rows.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** The bodies in a device's version cache, as text. */
function cachedBodies(home: string): string[] {
  return stateRows(home, "SELECT body FROM version_cache").map((row) =>
    new TextDecoder().decode(row.body as Uint8Array)
  );
}

Deno.test("small files' versions name a chunk in a pack, not their content, in the version cache too; restores get the content", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-vcache-" });
  const env = servicesStoreEnv({ namespacePrefix: "vcache" });
  const a = await makeDeviceHome(tmp, "devA", env);
  const b = await makeDeviceHome(tmp, "devB", env);
  const remote = `${env.TCFS_S3_BUCKET}/${env.TCFS_NAMESPACE}/notes`;
  const folder = join(a.home, "notes");
  await Deno.mkdir(folder);
  const secretish = "small files travel in packs, like any chunk\n";
  await Deno.writeTextFile(join(folder, "small.txt"), secretish);
  await a.tcfsJson<PushSummary>(["push", folder, remote]);

  // A's cache has its own version, without the bytes; a restore elsewhere fetches them.
  const bodiesA = cachedBodies(a.home);
  assert.ok(bodiesA.length >= 1);
  for (const body of bodiesA) {
    assert.doesNotMatch(body, /"inline"/);
    assert.match(body, /"pack":"[0-9a-f]+"/);
  }
  const copy = join(a.home, "copy");
  const pulledByA = await a.tcfsJson<PullSummary>(["pull", remote, copy]);
  assert.equal(pulledByA.files, 1);
  assert.equal(await Deno.readTextFile(join(copy, "small.txt")), secretish);

  // B reads the version from the store, restores it, and caches it without the bytes too.
  const pulledByB = await b.tcfsJson<PullSummary>(["pull", remote, join(b.home, "notes")]);
  assert.equal(pulledByB.files, 1);
  assert.equal(await Deno.readTextFile(join(b.home, "notes", "small.txt")), secretish);
  for (const body of cachedBodies(b.home)) assert.doesNotMatch(body, /"inline"/);
  await Deno.remove(tmp, { recursive: true });
});
