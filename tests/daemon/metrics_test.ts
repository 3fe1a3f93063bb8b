import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { freePorts } from "../support/free_port.ts";

/** One parsed sample line. */
interface Sample {
  name: string;
  labels: string;
  value: number;
}

const HELP = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/;
const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/;
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/;

/** Parses the exposition text strictly: every line is HELP, TYPE or a sample of a declared family. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith("\n"));
  for (const line of text.slice(0, -1).split("\n")) {
    const help = HELP.exec(line);
    const type = TYPE.exec(line);
    const sample = SAMPLE.exec(line);
    if (help) helped.add(help[1]);
    else if (type) {
      assert.ok(helped.has(type[1]), `HELP before TYPE for ${type[1]}`);
      types.set(type[1], type[2]);
    } else if (sample) {
      const family = sample[1].replace(/_(bucket|sum|count)$/, "");
      assert.ok(
        types.has(sample[1]) || types.get(family) === "histogram",
        `undeclared ${sample[1]}`,
      );
      samples.push({
        name: sample[1],
        labels: sample[2] ?? "",
        value: Number(sample[3].replace("Inf", "Infinity")),
      });
    } else assert.fail(`not a HELP, TYPE or sample line: ${JSON.stringify(line)}`);
  }
  return { types, samples };
}

function value(samples: Sample[], name: string, labels = ""): number {
  const found = samples.find((s) => s.name === name && s.labels === labels);
  assert.ok(found, `series ${name}${labels} exists`);
  return found.value;
}

Deno.test("/metrics is valid Prometheus text with the tcfs series, and counters move after a push", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-metrics-");
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  await a.start();
  try {
    const addr = (await a.status()).metrics_addr!;
    assert.match(addr, /^127\.0\.0\.1:\d+$/);
    const scrape = async () => {
      const response = await fetch(`http://${addr}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
      return parseExposition(await response.text());
    };
    const before = await scrape();
    const expected: [string, string][] = [
      ["tcfs_uploaded_bytes_total", "counter"],
      ["tcfs_downloaded_bytes_total", "counter"],
      ["tcfs_uploaded_chunks_total", "counter"],
      ["tcfs_downloaded_chunks_total", "counter"],
      ["tcfs_pushed_files_total", "counter"],
      ["tcfs_pulled_files_total", "counter"],
      ["tcfs_conflicts_total", "counter"],
      ["tcfs_errors_total", "counter"],
      ["tcfs_nats_connected", "gauge"],
      ["tcfs_nats_outbox_depth", "gauge"],
      ["tcfs_push_duration_seconds", "histogram"],
      ["tcfs_pull_duration_seconds", "histogram"],
      ["tcfs_last_sync_timestamp_seconds", "gauge"],
      ["process_resident_memory_bytes", "gauge"],
      ["process_start_time_seconds", "gauge"],
      ["process_cpu_seconds_total", "counter"],
    ];
    for (const [name, type] of expected) assert.equal(before.types.get(name), type, name);
    assert.equal(value(before.samples, "tcfs_errors_total", '{op="push"}'), 0);
    assert.equal(value(before.samples, "tcfs_nats_connected"), 0);
    assert.ok(value(before.samples, "process_resident_memory_bytes") > 1 << 20);
    assert.ok(
      Math.abs(value(before.samples, "process_start_time_seconds") - Date.now() / 1000) < 120,
    );

    const pushedBefore = value(before.samples, "tcfs_pushed_files_total");
    await Deno.writeFile(
      join(a.root, "counted.bin"),
      crypto.getRandomValues(new Uint8Array(40_000)),
    );
    await waitFor(
      async () => value((await scrape()).samples, "tcfs_pushed_files_total") > pushedBefore,
      10_000,
      () => a.log(),
    );
    const after = await scrape();
    assert.equal(value(after.samples, "tcfs_pushed_files_total"), pushedBefore + 1);
    assert.ok(value(after.samples, "tcfs_uploaded_bytes_total") >= 40_000);
    assert.ok(value(after.samples, "tcfs_uploaded_chunks_total") >= 1);
    assert.ok(
      value(after.samples, "tcfs_push_duration_seconds_count") >
        value(before.samples, "tcfs_push_duration_seconds_count"),
    );
    assert.equal(
      value(after.samples, "tcfs_push_duration_seconds_bucket", '{le="+Inf"}'),
      value(after.samples, "tcfs_push_duration_seconds_count"),
    );
    assert.ok(
      Math.abs(value(after.samples, "tcfs_last_sync_timestamp_seconds") - Date.now() / 1000) < 60,
    );

    assert.equal(await (await fetch(`http://${addr}/healthz`)).text(), "ok\n");
    const ready = await fetch(`http://${addr}/readyz`);
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
    const missing = await fetch(`http://${addr}/nope`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await a.stop();
    await tmp.remove();
  }
});

Deno.test("with the store unreachable the daemon still starts; /readyz and status say it is not ready", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-unready-");
  const [deadPort] = freePorts(1);
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `http://127.0.0.1:${deadPort}`,
    TCFS_S3_ACCESS: "nobody-listens",
    TCFS_S3_SECRET: "nobody-listens-either",
  });
  await a.start();
  try {
    const status = await a.status();
    assert.equal(status.storage.reachable, false);
    assert.ok(status.storage.error);
    const ready = await fetch(`http://${status.metrics_addr}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /^not ready: /);
    const health = await fetch(`http://${status.metrics_addr}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.match(await a.log(), /is not reachable/);
  } finally {
    await a.stop();
    await tmp.remove();
  }
});
