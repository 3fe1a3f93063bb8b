import assert from "node:assert/strict";
import { loadTestConfig } from "../support/test_config.ts";
import { createScheduledGc, type ScheduledGcOptions } from "../../daemon/scheduled_gc.ts";
import { metricsWithoutNats } from "../support/recording_reporting.ts";
import { TcfsError } from "../../core/errors.ts";
import type { GcReport } from "../../core/gc/gc_run.ts";
import type { TcfsConfig } from "../../core/config/config_schema.ts";

const REPORT: GcReport = {
  namespace: "default",
  dry_run: false,
  versions: { before: 5, kept: 2, dropped: 3 },
  journal_objects_deleted: 4,
  repacked: { packs: 0, bytes_before: 0, bytes_after: 0 },
  objects: {
    objects: 3,
    bytes: 300,
    referenced: 1,
    referencedBytes: 100,
    deleted: 2,
    deletedBytes: 200,
    condemned: 0,
    condemnedBytes: 0,
    rescued: 0,
  },
  problems: [],
};

/** A schedule whose runs are recorded (by time since start) instead of touching a store. */
async function fixture(intervalSecs: number, random = () => 0.5) {
  const config: TcfsConfig = await loadTestConfig({ env: { HOME: "/nonexistent-home" } });
  config.history.gcIntervalSecs = intervalSecs;
  const started = Date.now();
  const runs: number[] = [];
  const outcomes: (() => GcReport)[] = [];
  const logged: string[] = [];
  const metrics = metricsWithoutNats();
  const options: ScheduledGcOptions = {
    config: () => config,
    exclusive: <T>() => {
      runs.push(Date.now() - started);
      return Promise.resolve((outcomes.shift() ?? (() => REPORT))() as T);
    },
    metrics,
    log: (level, message) => logged.push(`${level}: ${message}`),
    random,
  };
  const gc = createScheduledGc(options);
  return { config, gc, runs, outcomes, logged, metrics };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `nextRunAt` is `wait` ms after a moment between `before` and `after` (ISO strings hold ms). */
function assertDueIn(nextRunAt: string, before: number, after: number, wait: number, what: string) {
  const due = Date.parse(nextRunAt);
  assert.ok(
    due >= before + Math.floor(wait) && due <= after + Math.ceil(wait),
    `${what}: due ${due - before} ms after the call began, ${due - after} after it ended`,
  );
}

Deno.test("scheduled gc: the first run one interval after start, then every interval; a held lease is recorded and the schedule goes on; stop ends it", async () => {
  const { gc, runs, outcomes, logged, metrics } = await fixture(1);
  outcomes.push(() => REPORT, () => {
    throw new TcfsError("another gc is running: the lease is held by otherdev until …", {
      kind: "gc_lease_held",
    });
  });
  const before = Date.now();
  gc.start();
  const after = Date.now();
  try {
    assertDueIn(gc.status().next_run_at!, before, after, 1_000, "no jitter at 0.5");
    assert.equal(gc.status().last_run, undefined);
    await sleep(300);
    assert.deepEqual(runs, [], "nothing at start");
    while (runs.length < 3) await sleep(50);
    assert.ok(runs[0] >= 950, `${runs}`);
    assert.ok(runs[1] - runs[0] >= 950 && runs[2] - runs[1] >= 950, `${runs}`);
    await sleep(50);
    const last = gc.status().last_run!;
    assert.equal(last.trigger, "schedule");
    assert.equal(last.result, "ok");
    assert.equal(last.freed_bytes, 200);
    const rendered = metrics.registry.render();
    assert.match(rendered, /tcfs_gc_runs_total\{result="ok"\} 2\n/);
    assert.match(rendered, /tcfs_gc_runs_total\{result="lease_held"\} 1\n/);
    assert.match(rendered, /tcfs_gc_freed_bytes_total 400\n/);
    assert.ok(logged.includes(
      "info: gc (schedule) skipped: another gc is running: the lease is held by otherdev until …",
    ));
    assert.equal(logged.filter((line) => /gc of default \(schedule/.test(line)).length, 2);
  } finally {
    gc.stop();
  }
  const ran = runs.length;
  assert.equal(gc.status().next_run_at, undefined);
  await sleep(1_300);
  assert.equal(runs.length, ran, "no run after stop");
});

Deno.test("scheduled gc: an interval of 0 never runs; a reload that sets one starts counting then; waits are jittered by ±10 %", async () => {
  const { config, gc, runs } = await fixture(0);
  gc.start();
  try {
    assert.deepEqual(gc.status(), { interval_secs: 0 });
    config.history.gcIntervalSecs = 3600;
    const before = Date.now();
    gc.settingsChanged();
    assertDueIn(gc.status().next_run_at!, before, Date.now(), 3_600_000, "counted from the reload");
    // An unchanged interval keeps its turn.
    const next = gc.status().next_run_at;
    await sleep(20);
    gc.settingsChanged();
    assert.equal(gc.status().next_run_at, next);
    // An interval past what a timer can wait (about 24.8 days) is still that long.
    config.history.gcIntervalSecs = 30 * 86_400;
    gc.settingsChanged();
    await sleep(50);
    assert.deepEqual(runs, []);
    assert.ok(Date.parse(gc.status().next_run_at!) - Date.now() > 26 * 86_400_000);
  } finally {
    gc.stop();
  }
  for (const [random, share] of [[0, 0.9], [0.999999, 1.1]]) {
    const { gc: jittered } = await fixture(100, () => random);
    const before = Date.now();
    jittered.start();
    const after = Date.now();
    const next = jittered.status().next_run_at!;
    jittered.stop();
    assertDueIn(next, before, after, 100_000 * share, `random ${random}`);
  }
});

Deno.test("gc asked for through the API: a dry run is neither recorded nor counted, a real one is, and failures reach the caller", async () => {
  const { gc, outcomes, metrics } = await fixture(0);
  await gc.run({ dryRun: true });
  assert.equal(gc.status().last_run, undefined);
  assert.match(metrics.registry.render(), /tcfs_gc_runs_total\{result="ok"\} 0\n/);
  await gc.run({ minAgeMs: 0 });
  assert.equal(gc.status().last_run?.trigger, "api");
  outcomes.push(() => {
    throw new Error("store unreachable");
  });
  await assert.rejects(gc.run({}), /store unreachable/);
  const failed = gc.status().last_run!;
  assert.equal(failed.result, "error");
  assert.equal(failed.error, "store unreachable");
  assert.match(metrics.registry.render(), /tcfs_gc_runs_total\{result="error"\} 1\n/);
});
