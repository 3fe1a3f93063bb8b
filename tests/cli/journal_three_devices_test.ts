import assert from "node:assert/strict";
import { join } from "node:path";
import { concatBytes } from "../../core/encoding/concat_bytes.ts";
import { readVerifiedContent } from "../../core/sync/verified_content.ts";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import { servicesStore } from "../support/services_store.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { openSyncDevice } from "../support/sync_device.ts";
import { pathHeads } from "../../core/sync/sync_context.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { RemoteEntry } from "../../core/sync/remote_listing.ts";

const FILES_EACH = 25;

/** The contents of the remote heads of `rel`, read by a device of its own. */
async function remoteHeadContents(tmp: string, namespace: string, rel: string) {
  using store = servicesStore();
  using reader = await openSyncDevice(tmp, "reader", store);
  reader.ctx.namespace = namespace;
  const { heads } = await pathHeads(reader.ctx, rel);
  const texts = await Promise.all(heads.map(async (h) => {
    const parts: Uint8Array[] = [];
    await readVerifiedContent(
      store,
      h.version,
      { counters: { chunksDownloaded: 0, bytesDownloaded: 0 } },
      (bytes) => Promise.resolve(parts.push(bytes.slice())),
    );
    return new TextDecoder().decode(concatBytes(parts));
  }));
  return texts.sort();
}

Deno.test("three devices pushing into one namespace at once lose nothing", async () => {
  const tmp = await makeScopedTempDir("tcfs-journal-three-");
  const env = servicesStoreEnv({ namespacePrefix: "three" });
  const remote = `${env.TCFS_S3_BUCKET}/${env.TCFS_NAMESPACE}/docs`;
  const devices = await Promise.all(
    ["devA", "devB", "devC"].map((name) =>
      makeDeviceHome(tmp.path, name, { ...env, TCFS_SOCKET: join(tmp.path, `${name}.sock`) })
    ),
  );
  const docs = (d: DeviceHome) => join(d.home, "docs");
  try {
    const [a] = devices;
    await Deno.mkdir(docs(a));
    await Deno.writeTextFile(join(docs(a), "shared.txt"), "base\n");
    await a.tcfsJson<PushSummary>(["push", docs(a), remote]);
    for (const d of devices.slice(1)) await d.tcfsJson<PullSummary>(["pull", remote, docs(d)]);

    // Each device adds files of its own and edits the shared one, then all push at once.
    const edits = devices.map((d) => `edited on ${d.name}\n`);
    for (const d of devices) {
      for (let i = 0; i < FILES_EACH; i++) {
        await Deno.writeTextFile(join(docs(d), `${d.name}-${i}.txt`), `${d.name} ${i}\n`);
      }
      await Deno.writeTextFile(join(docs(d), "shared.txt"), `edited on ${d.name}\n`);
    }
    const pushes = await Promise.all(
      devices.map((d) => d.tcfsJson<PushSummary>(["push", docs(d), remote], { allowCodes: [3] })),
    );
    for (const p of pushes) assert.deepEqual(p.failures, []);

    // Every edit is a remote head, or stayed on its device as a conflict: none was lost.
    const heads = await remoteHeadContents(tmp.path, env.TCFS_NAMESPACE, "docs/shared.txt");
    const refused = devices.filter((_, i) => pushes[i].conflicts.includes(`${remote}/shared.txt`));
    for (const d of refused) {
      assert.equal(await Deno.readTextFile(join(docs(d), "shared.txt")), `edited on ${d.name}\n`);
    }
    const kept = [...heads, ...refused.map((d) => `edited on ${d.name}\n`)].sort();
    assert.deepEqual(kept, [...edits].sort(), JSON.stringify({ heads, pushes }));
    assert.ok(heads.length >= 1);

    const expected = devices.flatMap((d) =>
      Array.from({ length: FILES_EACH }, (_, i) => [`${d.name}-${i}.txt`, `${d.name} ${i}\n`])
    );
    for (const [i, d] of devices.entries()) {
      const pulled = await d.tcfsJson<PullSummary>(["pull", remote, docs(d)], {
        allowCodes: [3],
      });
      assert.deepEqual(pulled.failures, []);
      for (const [name, text] of expected) {
        assert.equal(await Deno.readTextFile(join(docs(d), name)), text, `${d.name}: ${name}`);
      }
      // Nobody's edit was overwritten; unless it is the one remote head, the path is a conflict.
      assert.equal(await Deno.readTextFile(join(docs(d), "shared.txt")), edits[i]);
      const soleHead = heads.length === 1 && heads[0] === edits[i];
      if (!soleHead) {
        assert.ok(
          pulled.conflicts.includes(`${remote}/shared.txt`) ||
            pushes[i].conflicts.includes(`${remote}/shared.txt`),
          `${d.name}: ${JSON.stringify(pulled)}`,
        );
      }
    }
    const listing = await a.tcfsJson<RemoteEntry[]>(["ls", remote]);
    const shared = listing.find((e) => e.path === "docs/shared.txt")!;
    assert.equal(shared.conflict, heads.length > 1);
    assert.equal(listing.length, 1 + devices.length * FILES_EACH);
  } finally {
    await tmp.remove();
  }
});
