import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "./nats_process.ts";

Deno.test("startNatsServer runs JetStream in its domain and keeps streams across a restart", async () => {
  await using nats = await startNatsServer({ jetstreamDomain: "hub" });
  const first = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(first);
    const account = await jsm.getAccountInfo();
    assert.equal(account.domain, "hub");
    await jsm.streams.add({ name: "HELPER_TEST", subjects: ["helper.test.>"] });
  } finally {
    await first.close();
  }

  await nats.restart();
  const second = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(second);
    const stream = await jsm.streams.info("HELPER_TEST");
    assert.deepEqual(stream.config.subjects, ["helper.test.>"]);
  } finally {
    await second.close();
  }
});
