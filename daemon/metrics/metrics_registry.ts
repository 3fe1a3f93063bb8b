/**
 * A small Prometheus registry: counters, gauges and histograms, rendered in the text
 * exposition format (version 0.0.4) with `# HELP` and `# TYPE` lines.
 *
 * @module
 */

/** Label names to values. */
export type Labels = Record<string, string>;

/** A value that only goes up. */
export interface Counter {
  inc(by?: number, labels?: Labels): void;
}

/** A value that goes up and down. */
export interface Gauge {
  set(value: number, labels?: Labels): void;
}

/** Observations counted into cumulative buckets, with their sum and count. */
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

/** Options shared by every metric. */
export interface MetricOptions {
  name: string;
  help: string;
  /** Label sets to show with value 0 before anything is recorded. */
  initialLabels?: Labels[];
}

/** Options of a counter or gauge. */
export interface ValueOptions extends MetricOptions {
  /** Reads the value at scrape time (one unlabelled series) instead of `inc`/`set`. */
  collect?: () => number;
}

/** Options of a histogram. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, ascending; `+Inf` is added. */
  buckets: readonly number[];
}

/** The metrics of one process. */
export interface MetricsRegistry {
  counter(options: ValueOptions): Counter;
  gauge(options: ValueOptions): Gauge;
  histogram(options: HistogramOptions): Histogram;
  /** Every metric in the text exposition format. */
  render(): string;
}

/** The content type of {@linkcode MetricsRegistry.render}'s output. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples(): string[];
}

/**
 * Creates an empty registry.
 *
 * @example
 * ```ts
 * const registry = createMetricsRegistry();
 * const pushed = registry.counter({ name: "tcfs_pushed_files_total", help: "Files pushed." });
 * pushed.inc();
 * registry.render(); // "# HELP tcfs_pushed_files_total Files pushed.\n# TYPE ...\ntcfs_pushed_files_total 1\n"
 * ```
 */
export function createMetricsRegistry(): MetricsRegistry {
  const families: Family[] = [];
  const register = (family: Family) => {
    if (!METRIC_NAME.test(family.name)) throw new Error(`bad metric name ${family.name}`);
    if (families.some((f) => f.name === family.name)) {
      throw new Error(`metric ${family.name} is registered twice`);
    }
    families.push(family);
  };
  const registerValues = (options: ValueOptions, type: "counter" | "gauge") => {
    const values = new Map((options.initialLabels ?? [{}]).map((labels) => [labelKey(labels), 0]));
    const { collect } = options;
    register({
      name: options.name,
      help: options.help,
      type,
      samples: () =>
        collect
          ? [sample(options.name, "", collect())]
          : [...values].map(([key, value]) => sample(options.name, key, value)),
    });
    return values;
  };
  return {
    counter(options) {
      const values = registerValues(options, "counter");
      return {
        inc(by = 1, labels = {}) {
          if (by < 0) throw new Error(`counter ${options.name} cannot go down`);
          const key = labelKey(labels);
          values.set(key, (values.get(key) ?? 0) + by);
        },
      };
    },
    gauge(options) {
      const values = registerValues(options, "gauge");
      return { set: (value, labels = {}) => void values.set(labelKey(labels), value) };
    },
    histogram(options) {
      const bounds = [...options.buckets].sort((a, b) => a - b);
      const series = new Map<string, { counts: number[]; sum: number; count: number }>();
      const seriesFor = (key: string) => {
        let s = series.get(key);
        if (!s) series.set(key, s = { counts: bounds.map(() => 0), sum: 0, count: 0 });
        return s;
      };
      for (const labels of options.initialLabels ?? [{}]) seriesFor(labelKey(labels));
      register({
        name: options.name,
        help: options.help,
        type: "histogram",
        samples: () =>
          [...series].flatMap(([key, s]) => [
            ...bounds.map((bound, i) =>
              sample(`${options.name}_bucket`, joinLabels(key, `le="${bound}"`), s.counts[i])
            ),
            sample(`${options.name}_bucket`, joinLabels(key, `le="+Inf"`), s.count),
            sample(`${options.name}_sum`, key, s.sum),
            sample(`${options.name}_count`, key, s.count),
          ]),
      });
      return {
        observe(value, labels = {}) {
          const s = seriesFor(labelKey(labels));
          bounds.forEach((bound, i) => {
            if (value <= bound) s.counts[i]++;
          });
          s.sum += value;
          s.count++;
        },
      };
    },
    render() {
      return families.map((family) =>
        [
          `# HELP ${family.name} ${escapeHelp(family.help)}`,
          `# TYPE ${family.name} ${family.type}`,
          ...family.samples(),
        ].join("\n") + "\n"
      ).join("");
    },
  };
}

/** The rendered label set, `a="x",b="y"` in name order: also the series' identity. */
function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((name) => {
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${name}`);
    return `${name}="${escapeLabelValue(labels[name])}"`;
  }).join(",");
}

function joinLabels(key: string, extra: string): string {
  return key === "" ? extra : `${key},${extra}`;
}

function sample(name: string, key: string, value: number): string {
  return `${name}${key === "" ? "" : `{${key}}`} ${formatValue(value)}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function escapeHelp(help: string): string {
  return help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}
