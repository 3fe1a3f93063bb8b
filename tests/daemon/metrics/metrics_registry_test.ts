import assert from "node:assert/strict";
import { createMetricsRegistry } from "../../../daemon/metrics/metrics_registry.ts";

Deno.test("counters, gauges and histograms render as Prometheus text", () => {
  const registry = createMetricsRegistry();
  const files = registry.counter({ name: "t_files_total", help: "Files." });
  const errors = registry.counter({
    name: "t_errors_total",
    help: "Errors by op.",
    initialLabels: [{ op: "push" }, { op: "pull" }],
  });
  const depth = registry.gauge({ name: "t_depth", help: "Depth." });
  registry.gauge({ name: "t_live", help: "Read at scrape.", collect: () => 42 });
  const seconds = registry.histogram({ name: "t_seconds", help: "Durations.", buckets: [1, 0.1] });
  files.inc();
  files.inc(2);
  errors.inc(1, { op: "pull" });
  depth.set(7);
  seconds.observe(0.05);
  seconds.observe(0.5);
  seconds.observe(3);
  assert.equal(
    registry.render(),
    [
      "# HELP t_files_total Files.",
      "# TYPE t_files_total counter",
      "t_files_total 3",
      "# HELP t_errors_total Errors by op.",
      "# TYPE t_errors_total counter",
      't_errors_total{op="push"} 0',
      't_errors_total{op="pull"} 1',
      "# HELP t_depth Depth.",
      "# TYPE t_depth gauge",
      "t_depth 7",
      "# HELP t_live Read at scrape.",
      "# TYPE t_live gauge",
      "t_live 42",
      "# HELP t_seconds Durations.",
      "# TYPE t_seconds histogram",
      't_seconds_bucket{le="0.1"} 1',
      't_seconds_bucket{le="1"} 2',
      't_seconds_bucket{le="+Inf"} 3',
      "t_seconds_sum 3.55",
      "t_seconds_count 3",
      "",
    ].join("\n"),
  );
});

Deno.test("label values and help text are escaped; bad names and negative increments are refused", () => {
  const registry = createMetricsRegistry();
  const odd = registry.counter({ name: "t_odd_total", help: "Back\\slash\nnewline." });
  odd.inc(1, { path: 'a"b\\c\nd' });
  const text = registry.render();
  assert.match(text, /# HELP t_odd_total Back\\\\slash\\nnewline\./);
  assert.match(text, /t_odd_total\{path="a\\"b\\\\c\\nd"\} 1/);
  assert.throws(() => registry.counter({ name: "bad name", help: "x" }));
  assert.throws(() => registry.counter({ name: "t_odd_total", help: "twice" }));
  assert.throws(() => odd.inc(-1));
  assert.throws(() => odd.inc(1, { "bad-label": "x" }));
});
