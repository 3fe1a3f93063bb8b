import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { STATE_STREAM } from "../../../core/events/state_event.ts";
import {
  deviceConsumerName,
  STATE_STREAM_CONFIG,
  wantedReplicas,
} from "../../../daemon/nats/state_stream.ts";
import { startNatsCluster } from "../../support/nats_cluster.ts";
import { startTestBus, testEvent, waitFor } from "./event_bus_fixture.ts";

Deno.test("replicas: [nats] replicas wins; else 3 on a cluster of 3 or more, else 1", () => {
  const cluster = (servers: number) => ({
    cluster: "lab",
    connect_urls: Array.from({ length: servers }, (_, i) => `10.0.0.${i}:4222`),
  });
  assert.equal(wantedReplicas(undefined, cluster(3)), 3);
  assert.equal(wantedReplicas(undefined, cluster(5)), 3);
  assert.equal(wantedReplicas(undefined, cluster(2)), 1);
  assert.equal(wantedReplicas(undefined, { connect_urls: ["a:4222", "b:4222", "c:4222"] }), 1);
  assert.equal(wantedReplicas(undefined, {}), 1);
  assert.equal(wantedReplicas(1, cluster(3)), 1);
  assert.equal(wantedReplicas(5, cluster(3)), 5);
});

/** The stream's and the consumer's replica counts, as their raft groups list them. */
async function placements(nc: NatsConnection, deviceId: string) {
  const jsm = await jetstreamManager(nc);
  const stream = await jsm.streams.info(STATE_STREAM);
  const consumer = await jsm.consumers.info(STATE_STREAM, deviceConsumerName(deviceId));
  const peers = (cluster: typeof stream.cluster) =>
    new Set([cluster?.leader, ...(cluster?.replicas ?? []).map((peer) => peer.name)].filter(
      (name) => name !== undefined,
    )).size;
  return {
    stream: stream.config.num_replicas,
    streamPeers: peers(stream.cluster),
    consumerPeers: peers(consumer.cluster),
    leader: stream.cluster?.leader,
  };
}

/**
 * The placements once the device's consumer exists (made right after the stream) and has a
 * leader: until its group elects one, the consumer's info lists no peers at all.
 */
async function consumerPlaced(nc: NatsConnection, deviceId: string) {
  for (let attempt = 0;; attempt++) {
    try {
      const placed = await placements(nc, deviceId);
      if (placed.consumerPeers > 0 || attempt === 50) return placed;
    } catch (err) {
      if (attempt === 50) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test("on a 3-node cluster the stream is made with 3 replicas, raised to 3, and rides out its leader's loss", async (t) => {
  await using cluster = await startNatsCluster();
  const nc = await connect({ servers: cluster.nodes.map((node) => node.url) });
  try {
    await t.step("created with 3 replicas, and the consumer with them", async () => {
      await using a = await startTestBus({ natsUrl: cluster.urls });
      await waitFor(() => a.bus.status().state === "connected", "A connects");
      const placed = await consumerPlaced(nc, a.deviceId);
      assert.deepEqual([placed.stream, placed.streamPeers, placed.consumerPeers], [3, 3, 3]);
      const status = a.bus.status();
      assert.equal(status.stream?.replicas, 3);
      assert.equal(status.stream?.leader, placed.leader);
      assert.equal(status.connectedServer, cluster.nodes[0].url.replace("nats://", ""));
    });

    await t.step("a stream made with 1 replica is raised to 3; its consumers follow", async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(STATE_STREAM);
      await jsm.streams.add({ ...STATE_STREAM_CONFIG, num_replicas: 1 });
      await using a = await startTestBus({ natsUrl: cluster.urls });
      await waitFor(() => a.bus.status().state === "connected", "A connects");
      await waitFor(() => a.bus.status().stream?.replicas === 3, "A raises the stream");
      const placed = await consumerPlaced(nc, a.deviceId);
      assert.deepEqual([placed.stream, placed.streamPeers, placed.consumerPeers], [3, 3, 3]);
      assert.ok(!a.logs.some((line) => line.startsWith("warning:")), a.logs.join("\n"));
    });

    await t.step(
      "a raise the server refuses is logged once, and the stream used as it is",
      async () => {
        await using a = await startTestBus({ natsUrl: cluster.urls, nats: { replicas: 5 } });
        await waitFor(() => a.bus.status().state === "connected", "A connects");
        a.bus.publish(testEvent(a.deviceId, 1));
        await waitFor(() => a.bus.status().outboxDepth === 0, "A publishes");
        const refusals = a.logs.filter((line) => /^warning: .*refused to raise it/.test(line));
        assert.equal(refusals.length, 1, a.logs.join("\n"));
        assert.match(refusals[0], /^warning: .*nats stream edit STATE_UPDATES --replicas 5/);
        assert.equal(a.bus.status().stream?.replicas, 3);
      },
    );

    await t.step(
      "killing the node with the stream's leader: events keep flowing, none twice",
      async () => {
        const jsm = await jetstreamManager(nc);
        const leader = (await jsm.streams.info(STATE_STREAM)).cluster!.leader!;
        const others = cluster.nodes.filter((node) => node.serverName !== leader);
        const leaderNode = cluster.node(leader);
        // A publishes through the leader's node, B consumes through another node.
        await using a = await startTestBus({
          natsUrl: [leaderNode.url, ...others.map((node) => node.url)].join(","),
        });
        await using b = await startTestBus({
          natsUrl: [others[0].url, others[1].url, leaderNode.url].join(","),
        });
        await waitFor(() => a.bus.status().state === "connected", "A connects");
        await waitFor(() => b.bus.status().state === "connected", "B connects");
        a.bus.publish(testEvent(a.deviceId, 0));
        const fromA = () => b.received.filter((event) => event.device_id === a.deviceId);
        await waitFor(() => fromA().length === 1, "B receives the first event");

        await leaderNode.kill();
        const sent = 10;
        for (let n = 1; n <= sent; n++) {
          a.bus.publish(testEvent(a.deviceId, n));
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        // Writes span 2 s; the cluster elects a new leader for the stream in 4–9 s, and a publish
        // that met no leader waits out its ack timeout (5 s) before it is sent again.
        await waitFor(() => fromA().length >= sent + 1, "B receives every event", 30_000);
        const paths = fromA().map((event) => event.path);
        assert.equal(new Set(paths).size, paths.length, `none twice: ${paths.join(" ")}`);
        assert.ok(a.bus.status().reconnects >= 1, "A reconnected to another node");
        assert.notEqual(a.bus.status().connectedServer, leaderNode.url.replace("nats://", ""));

        await leaderNode.restart();
        await cluster.waitUntilHealed();
        await waitFor(
          () => a.bus.status().streamLeaderChanges + b.bus.status().streamLeaderChanges >= 1,
          "a daemon sees the leader move",
          20_000,
        );
      },
    );
  } finally {
    await nc.close();
  }
});
