import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsCluster } from "./nats_cluster.ts";

Deno.test("startNatsCluster runs a 3-node JetStream cluster that places R3 streams and heals", async () => {
  await using cluster = await startNatsCluster();
  const nc = await connect({ servers: cluster.nodes.map((node) => node.url) });
  try {
    assert.equal(nc.info?.connect_urls?.length, 3, "the cluster's gossip lists every node");
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.add({
      name: "CLUSTER_TEST",
      subjects: ["cluster.test.>"],
      num_replicas: 3,
    });
    assert.equal(info.cluster?.replicas?.length, 2);
    await cluster.node(info.cluster!.leader!).kill();
    await cluster.node(info.cluster!.leader!).restart();
    await cluster.waitUntilHealed();
  } finally {
    await nc.close();
  }
});
