import assert from "node:assert/strict";
import { createLimiter } from "../../../core/concurrency/limiter.ts";

Deno.test("a limiter runs at most its limit at once, and every task in the order queued", async () => {
  const limiter = createLimiter(3);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  await Promise.all(Array.from({ length: 50 }, (_, i) =>
    limiter.run(async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, i % 3));
      running--;
    })));
  assert.equal(most, 3);
  assert.deepEqual(started, Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("a limiter's queue costs the same per task however long it is", async () => {
  // A pull queues one task per path. Taking each waiter off the front of an array moved the
  // whole queue every time: 100,000 tasks took over 10 s where they now take a fraction of one.
  const limiter = createLimiter(32);
  const started = performance.now();
  await Promise.all(Array.from({ length: 100_000 }, () => limiter.run(() => Promise.resolve())));
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds < 3, `100,000 queued tasks took ${seconds.toFixed(1)} s`);
});
