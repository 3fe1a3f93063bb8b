import assert from "node:assert/strict";
import { retainedVersions, retentionPolicy } from "../../../core/history/retention_policy.ts";
import type { RetentionPolicy } from "../../../core/history/retention_policy.ts";

/** A Thursday, half past noon UTC (ISO week 49 of 2026). */
const NOW = new Date("2026-12-03T12:30:00Z");
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

interface Entry {
  key: string;
  head: boolean;
  version: { written_at: string };
}

function entry(key: string, written: Date | string, head = false): Entry {
  const written_at = typeof written === "string" ? written : written.toISOString();
  return { key, head, version: { written_at } };
}

/** `ms` before {@linkcode NOW} (negative: after it). */
function ago(ms: number): Date {
  return new Date(NOW.getTime() - ms);
}

function keptKeys(versions: Entry[], policy: RetentionPolicy, now = NOW): string[] {
  return [...retainedVersions(versions, policy, now)].map((kept) => kept.key).sort();
}

const ONLY_HEADS: RetentionPolicy = { keepDays: 0, keepLast: 1, staggered: false };

Deno.test("heads are always kept, every one of them, however old", () => {
  const versions = [
    entry("a", ago(400 * DAY), true),
    entry("b", ago(300 * DAY), true),
    entry("c", ago(500 * DAY)),
  ];
  assert.deepEqual(keptKeys(versions, ONLY_HEADS), ["a", "b"]);
  assert.deepEqual(keptKeys([], ONLY_HEADS), []);
});

Deno.test("keep_last keeps the path's newest versions, heads counted, in any input order", () => {
  const versions = [
    entry("v1", ago(50 * DAY)),
    entry("v2", ago(49 * DAY)),
    entry("v3", ago(48 * DAY)),
    entry("v4", ago(47 * DAY)),
    entry("v5", ago(46 * DAY), true),
  ];
  const policy = { keepDays: 0, keepLast: 3, staggered: false };
  assert.deepEqual(keptKeys(versions, policy), ["v3", "v4", "v5"]);
  assert.deepEqual(keptKeys([...versions].reverse(), policy), ["v3", "v4", "v5"]);
  assert.deepEqual(keptKeys(versions, { ...policy, keepLast: 10 }), ["v1", "v2", "v3", "v4", "v5"]);
});

Deno.test("keep_last = 1 with a deletion head keeps only the deletion; keep_days keeps the content", () => {
  const versions = [
    entry("deleted", ago(1 * HOUR), true),
    entry("content-2", ago(2 * DAY)),
    entry("content-1", ago(40 * DAY)),
  ];
  assert.deepEqual(keptKeys(versions, ONLY_HEADS), ["deleted"]);
  assert.deepEqual(
    keptKeys(versions, { keepDays: 30, keepLast: 1, staggered: false }),
    ["content-2", "deleted"],
  );
  assert.deepEqual(
    keptKeys(versions, { keepDays: 0, keepLast: 2, staggered: false }),
    ["content-2", "deleted"],
  );
});

Deno.test("versions written at the same instant rank by key, whatever the input order", () => {
  const at = ago(10 * DAY);
  const versions = [
    entry("head", ago(1 * DAY), true),
    entry("k-b", at),
    entry("k-c", at),
    entry("k-a", at),
  ];
  const policy = { keepDays: 0, keepLast: 3, staggered: false };
  for (
    const order of [versions, [...versions].reverse(), [
      versions[2],
      versions[0],
      versions[3],
      versions[1],
    ]]
  ) {
    assert.deepEqual(keptKeys(order, policy), ["head", "k-b", "k-c"]);
  }
});

Deno.test("keep_days keeps versions younger than that many days; 0 keeps none by age", () => {
  const versions = [
    entry("head", NOW, true),
    entry("1ms", ago(1)),
    entry("29d23h", ago(29 * DAY + 23 * HOUR)),
    entry("30d", ago(30 * DAY)),
    entry("31d", ago(31 * DAY)),
  ];
  assert.deepEqual(
    keptKeys(versions, { keepDays: 30, keepLast: 1, staggered: false }),
    ["1ms", "29d23h", "head"],
  );
  assert.deepEqual(keptKeys(versions, { keepDays: 0, keepLast: 1, staggered: false }), ["head"]);
  assert.deepEqual(
    keptKeys(versions, { keepDays: 1, keepLast: 1, staggered: false }),
    ["1ms", "head"],
  );
});

Deno.test("a version dated in the future (a skewed clock) is as young as a new one", () => {
  const versions = [
    entry("head", ago(-2 * 365 * DAY), true),
    entry("future", ago(-365 * DAY)),
    entry("old", ago(3 * DAY)),
  ];
  assert.deepEqual(
    keptKeys(versions, { keepDays: 1, keepLast: 1, staggered: false }),
    ["future", "head"],
  );
  assert.deepEqual(keptKeys(versions, ONLY_HEADS), ["head"]);
  // The newest of the path by its own date, even if that date has not come yet.
  assert.deepEqual(
    keptKeys(versions, { keepDays: 0, keepLast: 2, staggered: false }),
    ["future", "head"],
  );
});

Deno.test("a written_at that is not a date counts as written now", () => {
  const versions = [entry("head", ago(2 * DAY), true), entry("garbled", "yesterday-ish")];
  assert.deepEqual(
    keptKeys(versions, { keepDays: 1, keepLast: 1, staggered: false }),
    ["garbled", "head"],
  );
  // Written now, it is the newest of the path.
  assert.deepEqual(
    keptKeys(
      [...versions, entry("older", ago(3 * DAY))],
      { keepDays: 0, keepLast: 2, staggered: false },
    ),
    ["garbled", "head"],
  );
});

const STAGGERED: RetentionPolicy = { keepDays: 0, keepLast: 1, staggered: true };

Deno.test("staggered: the newest version of each UTC hour in the last day, the head counted", () => {
  const versions = [
    entry("12:20 head", "2026-12-03T12:20:00Z", true),
    entry("12:05", "2026-12-03T12:05:00Z"),
    entry("11:59", "2026-12-03T11:59:59Z"),
    entry("11:10", "2026-12-03T11:10:00Z"),
    entry("10:45", "2026-12-03T10:45:00Z"),
  ];
  assert.deepEqual(keptKeys(versions, STAGGERED), ["10:45", "11:59", "12:20 head"]);
  assert.deepEqual(keptKeys(versions, { ...STAGGERED, staggered: false }), ["12:20 head"]);
});

Deno.test("staggered: the newest version of each UTC day in the last 30 days", () => {
  const versions = [
    entry("head", NOW, true),
    entry("12-01 15:00", "2026-12-01T15:00:00Z"),
    entry("12-01 09:00", "2026-12-01T09:00:00Z"),
    entry("11-30 23:59", "2026-11-30T23:59:00Z"),
    entry("11-30 00:00", "2026-11-30T00:00:00Z"),
    entry("11-29 00:01", "2026-11-29T00:01:00Z"),
  ];
  assert.deepEqual(
    keptKeys(versions, STAGGERED),
    ["11-29 00:01", "11-30 23:59", "12-01 15:00", "head"],
  );
});

Deno.test("staggered: the newest version of each ISO week (Monday to Sunday, UTC) after 30 days", () => {
  const versions = [
    entry("head", NOW, true),
    entry("wed 10-28", "2026-10-28T10:00:00Z"),
    entry("mon 10-26", "2026-10-26T01:00:00Z"),
    entry("sun 10-25", "2026-10-25T23:00:00Z"),
    entry("tue 10-20", "2026-10-20T10:00:00Z"),
    entry("sun 09-06", "2026-09-06T23:59:59Z"),
    entry("mon 09-07", "2026-09-07T00:00:00Z"),
  ];
  assert.deepEqual(
    keptKeys(versions, STAGGERED),
    ["head", "mon 09-07", "sun 09-06", "sun 10-25", "wed 10-28"],
  );
});

Deno.test("staggered: where a period straddles a tier boundary, each part keeps its newest", () => {
  // NOW is 12:30: the day boundary runs through yesterday's 12:00 hour.
  const dayEdge = [
    entry("head", NOW, true),
    entry("yday 12:40", "2026-12-02T12:40:00Z"), // 23h50m old: the 12:00 hour's newest
    entry("yday 12:35", "2026-12-02T12:35:00Z"), // 23h55m old: same hour, dropped
    entry("yday 12:20", "2026-12-02T12:20:00Z"), // 24h10m old: yesterday's newest past a day
    entry("yday 11:30", "2026-12-02T11:30:00Z"), // same day, dropped
  ];
  assert.deepEqual(keptKeys(dayEdge, STAGGERED), ["head", "yday 12:20", "yday 12:40"]);
  // The 30-day boundary runs through 2026-11-03 12:30, in ISO week 45 (11-02 to 11-08).
  const monthEdge = [
    entry("head", NOW, true),
    entry("11-03 13:00", "2026-11-03T13:00:00Z"), // 29d23h30m old: its day's newest
    entry("11-03 11:00", "2026-11-03T11:00:00Z"), // 30d1h30m old: week 45's newest
    entry("11-02 09:00", "2026-11-02T09:00:00Z"), // week 45, dropped
  ];
  assert.deepEqual(keptKeys(monthEdge, STAGGERED), ["11-03 11:00", "11-03 13:00", "head"]);
});

Deno.test("staggered: versions dated in the future fall in hourly buckets", () => {
  const versions = [
    entry("head", "2028-01-01T00:00:00Z", true),
    entry("05:40", "2027-06-01T05:40:00Z"),
    entry("05:10", "2027-06-01T05:10:00Z"),
    entry("04:50", "2027-06-01T04:50:00Z"),
  ];
  assert.deepEqual(keptKeys(versions, STAGGERED), ["04:50", "05:40", "head"]);
});

Deno.test("the rules add up: a version is kept while any one of them keeps it", () => {
  const versions = [
    entry("head", NOW, true),
    entry("recent", ago(2 * HOUR)),
    entry("last-2", ago(40 * DAY)),
    entry("weekly", ago(60 * DAY)),
    entry("gone", ago(60 * DAY + HOUR)),
  ];
  assert.deepEqual(
    keptKeys(versions, { keepDays: 1, keepLast: 3, staggered: true }),
    ["head", "last-2", "recent", "weekly"],
  );
});

Deno.test("retainedVersions returns the given objects, so the rest are what gc prunes", () => {
  const versions = [entry("head", NOW, true), entry("old", ago(90 * DAY))];
  const kept = retainedVersions(versions, ONLY_HEADS, NOW);
  assert.ok(kept.has(versions[0]));
  assert.deepEqual(versions.filter((version) => !kept.has(version)), [versions[1]]);
});

Deno.test("retentionPolicy takes the [history] section's rules", () => {
  const history = {
    keepDays: 7,
    keepLast: 2,
    staggered: true,
    gcIntervalSecs: 3600,
    gcMinAgeSecs: 0,
  };
  assert.deepEqual(retentionPolicy(history), { keepDays: 7, keepLast: 2, staggered: true });
});
