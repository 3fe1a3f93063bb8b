import assert from "node:assert/strict";
import { createS3Store } from "../../core/store/s3_store.ts";
import { type SeaweedFSCluster, startSeaweedFSCluster } from "./seaweedfs_cluster.ts";

function storeOf(cluster: SeaweedFSCluster) {
  return createS3Store({
    endpoint: cluster.endpoint,
    bucket: cluster.bucket,
    region: "us-east-1",
    credentials: { accessKeyId: cluster.access, secretAccessKey: cluster.secret },
  });
}

Deno.test("a replicated cluster keeps an object readable while one of its holders is down", async () => {
  await using cluster = await startSeaweedFSCluster({ volumeServers: 3, replication: "001" });
  const store = storeOf(cluster);
  try {
    const body = crypto.getRandomValues(new Uint8Array(64 * 1024));
    await store.put("a/b.bin", body);
    const holders = await cluster.volumeServersHolding("a/b.bin");
    assert.equal(holders.length, 2, `001 keeps two copies: ${holders}`);

    await cluster.killVolumeServer(holders[0]);
    assert.equal(cluster.volumeServers[holders[0]].running, false);
    assert.deepEqual(await store.get("a/b.bin"), body);

    await cluster.restartVolumeServer(holders[0]);
    assert.equal(cluster.volumeServers[holders[0]].running, true);
    assert.deepEqual((await cluster.volumeServersHolding("a/b.bin")).sort(), holders.sort());
  } finally {
    store.close();
  }
});
