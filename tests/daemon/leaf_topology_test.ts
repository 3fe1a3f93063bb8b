import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice, readIfExists, seaweedEnv, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { freePorts } from "../support/free_port.ts";
import { startNatsServer } from "../support/nats_process.ts";

async function leafLinks(monitorUrl: string): Promise<number> {
  const response = await fetch(`${monitorUrl}/leafz`);
  return ((await response.json()) as { leafnodes?: number }).leafnodes ?? 0;
}

Deno.test("devices on a leaf node with its own JetStream domain sync, and keep syncing with the hub down", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-leaf-");
  const [leafPort] = freePorts(1);
  await using hub = await startNatsServer({
    jetstreamDomain: "hub",
    config: `leafnodes { listen: "127.0.0.1:${leafPort}" }`,
  });
  await using leaf = await startNatsServer({
    jetstreamDomain: "leaf1",
    config: `leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }`,
  });
  await waitFor(
    async () => await leafLinks(hub.monitorUrl) === 1,
    15_000,
    () => "the leaf never linked to the hub",
  );
  // Polling is slowed to an hour: only events can move files this fast.
  const env = {
    ...seaweedEnv("leaf"),
    TCFS_NATS_URL: leaf.url,
    TCFS_NATS_DOMAIN: "leaf1",
    TCFS_POLL_INTERVAL_SECS: "3600",
  };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  await a.start();
  await b.start();
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  try {
    for (const device of [a, b]) {
      await waitFor(async () => (await device.status()).nats.state === "connected", 15_000, logs);
    }
    await Deno.writeTextFile(join(a.root, "before.txt"), "through the leaf, hub up\n");
    await waitFor(
      async () => (await readIfExists(join(b.root, "before.txt"))) !== undefined,
      20_000,
      logs,
    );

    await hub.stop();
    await waitFor(
      async () => await leafLinks(leaf.monitorUrl) === 0,
      15_000,
      () => "the leaf still links to the hub",
    );
    await Deno.writeTextFile(join(a.root, "during.txt"), "through the leaf, hub down\n");
    await Deno.writeTextFile(join(b.root, "reply.txt"), "B answers with the hub down\n");
    await waitFor(
      async () => (await readIfExists(join(b.root, "during.txt"))) !== undefined,
      20_000,
      logs,
    );
    await waitFor(
      async () => (await readIfExists(join(a.root, "reply.txt"))) !== undefined,
      20_000,
      logs,
    );
    assert.equal(
      await Deno.readTextFile(join(b.root, "during.txt")),
      "through the leaf, hub down\n",
    );
    assert.equal(
      await Deno.readTextFile(join(a.root, "reply.txt")),
      "B answers with the hub down\n",
    );
    assert.equal((await a.status()).nats.state, "connected");
    assert.equal((await b.status()).nats.state, "connected");
  } finally {
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
