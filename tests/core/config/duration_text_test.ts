import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../../core/config/duration_text.ts";

Deno.test("durations: each unit, parts added up in any order, a bare 0, case and spaces forgiven", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("30m"), 1_800_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("2d"), 2 * 86_400_000);
  assert.equal(parseDuration("1w"), 7 * 86_400_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("30m1h"), 5_400_000);
  assert.equal(parseDuration("1d12h"), 36 * 3_600_000);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("0s"), 0);
  assert.equal(parseDuration(" 2H "), 7_200_000);
});

Deno.test("durations: a number without a unit, unknown units, signs, fractions and overflow are refused", () => {
  for (
    const text of [
      "",
      "30",
      "00",
      "1",
      "1y",
      "1ms",
      "-1h",
      "+1h",
      "1.5h",
      "h",
      "1 h",
      "1h 30m",
      "1hm",
    ]
  ) {
    assert.equal(parseDuration(text), undefined, JSON.stringify(text));
  }
  assert.equal(parseDuration(`${"9".repeat(20)}w`), undefined);
});

Deno.test("durations are written largest unit first, as they are read back", () => {
  assert.equal(formatDuration(0), "0");
  assert.equal(formatDuration(900_000), "15m");
  assert.equal(formatDuration(5_400_000), "1h30m");
  assert.equal(formatDuration(86_400_000 + 1_000), "1d1s");
  assert.equal(formatDuration(8 * 86_400_000), "1w1d");
  for (const ms of [1_000, 90_000, 3_600_000, 93_784_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});
