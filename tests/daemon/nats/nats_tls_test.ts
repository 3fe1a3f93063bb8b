import assert from "node:assert/strict";
import { startNatsServer } from "../../support/nats_process.ts";
import { startTestBus, testEvent, waitFor } from "./event_bus_fixture.ts";
import { createTestCertificates } from "./tls_fixture.ts";

Deno.test("tls:// with the CA file connects and exchanges events; without the CA it is refused", async () => {
  await using certs = await createTestCertificates();
  await using nats = await startNatsServer({
    config: `tls { cert_file: "${certs.certFile}", key_file: "${certs.keyFile}" }`,
  });
  const natsUrl = nats.url.replace("nats://", "tls://");
  await using a = await startTestBus({ natsUrl, nats: { tlsCaFile: certs.caFile } });
  await using b = await startTestBus({ natsUrl, nats: { tlsCaFile: certs.caFile } });
  const event = testEvent(a.deviceId, 1);
  a.bus.publish(event);
  await waitFor(() => b.received.length === 1, "B receives the event over TLS");
  assert.deepEqual(b.received, [event]);

  await using untrusting = await startTestBus({ natsUrl });
  await waitFor(() => untrusting.bus.status().lastError !== undefined, "the failure is reported");
  assert.equal(untrusting.bus.status().state, "reconnecting");
  assert.match(untrusting.bus.status().lastError!, /certificate/);
});

Deno.test("tls:// refuses a server that offers no TLS instead of talking in plain text", async () => {
  await using nats = await startNatsServer();
  await using a = await startTestBus({ natsUrl: nats.url.replace("nats://", "tls://") });
  await waitFor(() => a.bus.status().lastError !== undefined, "the failure is reported");
  assert.equal(a.bus.status().state, "reconnecting");
  assert.match(a.bus.status().lastError!, /tls/i);
});
