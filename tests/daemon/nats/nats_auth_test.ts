import assert from "node:assert/strict";
import { startNatsServer } from "../../support/nats_process.ts";
import { startTestBus, testEvent, waitFor } from "./event_bus_fixture.ts";
import { createNatsCreds } from "./nats_creds_fixture.ts";

const PASSWORD = "s3cret-pw-for-test";
const TOKEN = "s3cret-token-for-test";

function assertNoSecret(texts: string[], secret: string): void {
  for (const text of texts) assert.ok(!text.includes(secret), `a secret leaked into: ${text}`);
}

Deno.test("user/password: a wrong password is reported without the password, the right one connects", async () => {
  await using nats = await startNatsServer({
    config: `authorization { user: "tcfs", password: "${PASSWORD}" }`,
  });
  await using wrong = await startTestBus({
    natsUrl: nats.url,
    nats: { user: "tcfs", password: "not-the-password" },
  });
  await waitFor(() => wrong.bus.status().lastError !== undefined, "the failure is reported");
  const failed = wrong.bus.status();
  assert.equal(failed.state, "reconnecting");
  assert.match(failed.lastError!, /refused the credentials/);
  assertNoSecret([failed.lastError!, ...wrong.logs], "not-the-password");

  await using right = await startTestBus({
    natsUrl: nats.url,
    nats: { user: "tcfs", password: PASSWORD },
  });
  await waitFor(() => right.bus.status().state === "connected", "the right password connects");
  assertNoSecret(right.logs, PASSWORD);
});

Deno.test("user/password in the URL is used and redacted in status and logs", async () => {
  await using nats = await startNatsServer({
    config: `authorization { user: "tcfs", password: "${PASSWORD}" }`,
  });
  const natsUrl = nats.url.replace("nats://", `nats://tcfs:${PASSWORD}@`);
  await using a = await startTestBus({ natsUrl });
  await waitFor(() => a.bus.status().state === "connected", "connects with URL credentials");
  assert.equal(a.bus.status().server, nats.url.replace("nats://", "nats://tcfs:<redacted>@"));
  assertNoSecret(a.logs, PASSWORD);
});

Deno.test("token: a wrong token is refused, the right one connects and exchanges events", async () => {
  await using nats = await startNatsServer({ config: `authorization { token: "${TOKEN}" }` });
  await using wrong = await startTestBus({ natsUrl: nats.url, nats: { token: "wrong-token" } });
  await waitFor(() => wrong.bus.status().lastError !== undefined, "the failure is reported");
  assert.match(wrong.bus.status().lastError!, /refused the credentials/);
  assertNoSecret([wrong.bus.status().lastError!, ...wrong.logs], "wrong-token");

  await using a = await startTestBus({ natsUrl: nats.url, nats: { token: TOKEN } });
  await using b = await startTestBus({ natsUrl: nats.url, nats: { token: TOKEN } });
  const event = testEvent(a.deviceId, 1);
  a.bus.publish(event);
  await waitFor(() => b.received.length === 1, "B receives the event");
  assert.deepEqual(b.received, [event]);
  assertNoSecret([...a.logs, ...b.logs], TOKEN);
});

Deno.test(".creds file: a user JWT signed by the server's trusted operator connects and exchanges events", async () => {
  const creds = createNatsCreds();
  await using nats = await startNatsServer({ config: creds.serverConfig });
  const dir = await Deno.makeTempDir({ prefix: "tcfs-test-creds-" });
  try {
    const credsFile = `${dir}/tcfs.creds`;
    await Deno.writeTextFile(credsFile, creds.credsFile, { mode: 0o600 });
    await using a = await startTestBus({ natsUrl: nats.url, nats: { credsFile } });
    await using b = await startTestBus({ natsUrl: nats.url, nats: { credsFile } });
    const event = testEvent(a.deviceId, 1);
    a.bus.publish(event);
    await waitFor(() => b.received.length === 1, "B receives the event");
    assert.deepEqual(b.received, [event]);

    await using anonymous = await startTestBus({ natsUrl: nats.url });
    await waitFor(() => anonymous.bus.status().lastError !== undefined, "no creds is refused");
    assert.equal(anonymous.bus.status().state, "reconnecting");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(".creds file: a missing or damaged file is a clear error, not a crash", async () => {
  await using nats = await startNatsServer();
  const dir = await Deno.makeTempDir({ prefix: "tcfs-test-creds-" });
  try {
    await using missing = await startTestBus({
      natsUrl: nats.url,
      nats: { credsFile: `${dir}/missing.creds` },
    });
    await waitFor(() => missing.bus.status().lastError !== undefined, "the failure is reported");
    assert.match(missing.bus.status().lastError!, /cannot read the NATS credentials file/);

    const damaged = `${dir}/damaged.creds`;
    await Deno.writeTextFile(damaged, "-----BEGIN NATS USER JWT-----\nnot-a-jwt\n", {
      mode: 0o600,
    });
    await using broken = await startTestBus({ natsUrl: nats.url, nats: { credsFile: damaged } });
    await waitFor(() => broken.bus.status().lastError !== undefined, "the failure is reported");
    assert.match(broken.bus.status().lastError!, /is not a valid NATS \.creds file/);
    assert.equal(broken.bus.status().state, "reconnecting");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
