import assert from "node:assert/strict";
import { connectNats } from "../../../core/events/nats_transport.ts";
import { startNatsServer } from "../../support/nats_process.ts";

Deno.test("refused connections never surface as an uncaught socket error", async () => {
  await using nats = await startNatsServer({
    config: `authorization { user: "tcfs", password: "right" }`,
  });
  // With nats.js's plain transport, a few in every few hundred refused connects end in an
  // uncaught "read ECONNRESET" that would kill the daemon.
  const uncaught: unknown[] = [];
  const record = (event: ErrorEvent) => {
    uncaught.push(event.error);
    event.preventDefault();
  };
  globalThis.addEventListener("error", record);
  try {
    for (let attempt = 0; attempt < 500; attempt++) {
      await assert.rejects(connectNats({ servers: nats.url, user: "tcfs", pass: "wrong" }));
    }
    const nc = await connectNats({ servers: nats.url, user: "tcfs", pass: "right" });
    await nc.close();
  } finally {
    globalThis.removeEventListener("error", record);
  }
  assert.deepEqual(uncaught, []);
});
