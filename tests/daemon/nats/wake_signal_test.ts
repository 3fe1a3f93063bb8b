import assert from "node:assert/strict";
import { createWakeSignal } from "../../../daemon/nats/wake_signal.ts";

Deno.test("a wake resolves every waiter; a timed wait also ends on its own", async () => {
  const signal = createWakeSignal();
  let woken = 0;
  const waiters = [signal.wait(), signal.wait(60_000)].map((p) => p.then(() => woken++));
  assert.equal(woken, 0);
  signal.wake();
  await Promise.all(waiters);
  assert.equal(woken, 2);

  const started = Date.now();
  await signal.wait(30);
  assert.ok(Date.now() - started >= 25);
});
