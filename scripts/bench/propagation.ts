/**
 * Propagation latency between two real daemons (`scripts/tcfs daemon`, devices A and B, their
 * own HOMEs) on the shared SeaweedFS: from a file's write in A's sync root to the complete file
 * in B's sync root, over `--files` small files written `--gap-ms` apart (one editor save each;
 * the gap is longer than the 300 ms debounce, so each save is pushed on its own).
 *
 * Usage: `$DENO run -A scripts/bench/propagation.ts --mode nats|poll [--poll-secs 30]
 *   [--files 100] [--size 4096] [--gap-ms 500]`
 *
 * `nats` starts a private nats-server and slows polling to an hour, so every file travels by
 * event; `poll` configures no NATS, so B finds every file by polling the store.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeDaemonDevice, readIfExists, seaweedEnv } from "../../tests/daemon/daemon_device.ts";
import { startNatsServer } from "../../tests/support/nats_process.ts";
import { makeScopedTempDir } from "../../tests/support/module_unload.ts";

const args = parseArgs({
  options: {
    mode: { type: "string", default: "nats" },
    "poll-secs": { type: "string", default: "30" },
    files: { type: "string", default: "100" },
    size: { type: "string", default: "4096" },
    "gap-ms": { type: "string", default: "500" },
  },
}).values;
const count = Number(args.files);
const size = Number(args.size);
const gapMs = Number(args["gap-ms"]);
if (args.mode !== "nats" && args.mode !== "poll") throw new Error("--mode is nats or poll");

const tmp = await makeScopedTempDir("tcfs-bench-propagation-");
await using nats = args.mode === "nats" ? await startNatsServer() : undefined;
const env = {
  ...seaweedEnv("bench-prop"),
  TCFS_POLL_INTERVAL_SECS: nats ? "3600" : args["poll-secs"]!,
  ...(nats ? { TCFS_NATS_URL: nats.url } : {}),
};
const a = await makeDaemonDevice(tmp.path, "devA", env);
const b = await makeDaemonDevice(tmp.path, "devB", env);
await a.start();
await b.start();
try {
  if (nats) {
    for (const device of [a, b]) {
      while ((await device.status()).nats.state !== "connected") await sleep(100);
    }
  }
  const writtenAt = new Map<string, number>();
  const arrivedAt = new Map<string, number>();
  const watcher = Deno.watchFs(b.root);
  const watching = (async () => {
    for await (const event of watcher) {
      for (const path of event.paths) {
        const name = path.slice(b.root.length + 1);
        if (!writtenAt.has(name) || arrivedAt.has(name)) continue;
        // Restores rename a complete, verified temp file into place: seen means complete.
        if ((await readIfExists(path))?.length === size) arrivedAt.set(name, performance.now());
      }
    }
  })();
  for (let i = 0; i < count; i++) {
    const name = `file-${String(i).padStart(3, "0")}.bin`;
    const bytes = crypto.getRandomValues(new Uint8Array(size));
    writtenAt.set(name, performance.now());
    await Deno.writeFile(join(a.root, name), bytes);
    await sleep(gapMs);
  }
  const deadline = performance.now() + 120_000 + Number(args["poll-secs"]) * 2_000;
  while (arrivedAt.size < count && performance.now() < deadline) await sleep(50);
  watcher.close();
  await watching;
  for (const name of writtenAt.keys()) {
    const [sent, got] = await Promise.all([
      readIfExists(join(a.root, name)),
      readIfExists(join(b.root, name)),
    ]);
    if (!sent || !got || sent.length !== got.length || sent.some((x, i) => x !== got[i])) {
      throw new Error(`${name} did not arrive intact in B`);
    }
  }
  const latencies = [...writtenAt].map(([name, at]) => arrivedAt.get(name)! - at)
    .sort((x, y) => x - y);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)];
  const label = nats ? "NATS" : `polling every ${args["poll-secs"]} s`;
  console.log(
    `${label.padEnd(22)} files=${count} size=${size} B gap=${gapMs} ms  ` +
      `p50=${ms(pct(0.5))}  p90=${ms(pct(0.9))}  p99=${ms(pct(0.99))}  max=${
        ms(latencies.at(-1)!)
      }`,
  );
} finally {
  await a.stop();
  await b.stop();
  await tmp.remove();
}

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
