/**
 * Publish→receive latency of state events between two event buses (two devices)
 * through a real nats-server on loopback, from `publish()` (the outbox write)
 * to the other device's handler.
 *
 * Usage: `$DENO run -A scripts/bench/event_latency.ts [--count 100] [--url nats://…]`
 *
 * Without `--url` it starts a private nats-server (tests/support/nats_process.ts).
 * Two runs: "one at a time" publishes the next event only after the previous one
 * arrived (the latency a single file change sees); "burst" publishes all events at
 * once (the queueing a burst of changes sees, as the outbox publishes one by one).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startNatsServer } from "../../tests/support/nats_process.ts";
import { startTestBus, testEvent, waitFor } from "../../tests/daemon/nats/event_bus_fixture.ts";

const args = parseArgs({
  options: { count: { type: "string", default: "100" }, url: { type: "string" } },
}).values;
const count = Number(args.count);

await using server = args.url ? undefined : await startNatsServer();
const natsUrl = args.url ?? server!.url;
await using sender = await startTestBus({ natsUrl, receive: false });
await using receiver = await startTestBus({ natsUrl, receive: false });
const sentAt = new Map<string, number>();
const latencies: number[] = [];
receiver.bus.onEvent((event) => {
  latencies.push(performance.now() - sentAt.get(event.id)!);
  return Promise.resolve();
});
await waitFor(() => sender.bus.status().state === "connected", "the sender connects");
await waitFor(() => receiver.bus.status().state === "connected", "the receiver connects");

function publish(n: number): void {
  const event = testEvent(sender.deviceId, n);
  sentAt.set(event.id, performance.now());
  sender.bus.publish(event);
}

// Warm-up: the first event pays for the consumer's first pull.
publish(0);
await waitFor(() => latencies.length === 1, "the warm-up event arrives");

for (const mode of ["one at a time", "burst"] as const) {
  latencies.length = 0;
  const started = performance.now();
  for (let n = 1; n <= count; n++) {
    publish(n);
    if (mode === "one at a time") await waitFor(() => latencies.length === n, `event ${n}`, 10_000);
  }
  await waitFor(() => latencies.length === count, "every event arrives", 60_000);
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  // One at a time, the pace is set by the 20 ms polling between events, not by the bus.
  const rate = mode === "burst" ? `, ${(count / seconds).toFixed(0)} events/s` : "";
  console.log(
    `${mode}: ${count} events, p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, ` +
      `max ${sorted.at(-1)!.toFixed(1)} ms${rate}`,
  );
}
