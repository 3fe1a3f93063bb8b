import assert from "node:assert/strict";
import { parsePointInTime } from "../../../core/history/point_in_time.ts";
import { parseDuration } from "../../../core/config/duration_text.ts";
import { TcfsError } from "../../../core/errors.ts";

const NOW = new Date("2026-12-03T12:00:00Z");

Deno.test("ages count back from now, in seconds to weeks, and parts add up", () => {
  const at = (text: string) => parsePointInTime(text, "--at", NOW).toISOString();
  assert.equal(at("2h"), "2026-12-03T10:00:00.000Z");
  assert.equal(at("30m"), "2026-12-03T11:30:00.000Z");
  assert.equal(at("3d"), "2026-11-30T12:00:00.000Z");
  assert.equal(at("1w"), "2026-11-26T12:00:00.000Z");
  assert.equal(at("45s"), "2026-12-03T11:59:15.000Z");
  assert.equal(at("1d12h"), "2026-12-02T00:00:00.000Z");
  assert.equal(at(" 2H "), "2026-12-03T10:00:00.000Z");
  assert.equal(parseDuration("0m"), 0);
  for (const text of ["", "2", "h", "2x", "-2h", "2.5h", "2 h", "h2"]) {
    assert.equal(parseDuration(text), undefined, text);
  }
});

Deno.test("ISO 8601 times are taken as written; without a zone they are local time", () => {
  const at = (text: string) => parsePointInTime(text, "--at", NOW).toISOString();
  assert.equal(at("2026-12-03T08:00:00Z"), "2026-12-03T08:00:00.000Z");
  assert.equal(at("2026-12-03T08:00:00.250+01:00"), "2026-12-03T07:00:00.250Z");
  assert.equal(at("2026-12-03 08:00Z"), "2026-12-03T08:00:00.000Z");
  assert.equal(
    parsePointInTime("2026-12-03T08:00", "--at").getTime(),
    new Date(2026, 11, 3, 8, 0).getTime(),
  );
  assert.equal(
    parsePointInTime("2026-12-03", "--at").getTime(),
    new Date(2026, 11, 3).getTime(),
  );
});

Deno.test("anything else is a usage error that names the option and shows both forms", () => {
  for (
    const text of ["yesterday", "2026-02-30T00:00:00Z", "2026-12-03T25:00Z", "Dec 3 2026", "2h ago"]
  ) {
    assert.throws(
      () => parsePointInTime(text, "--at", NOW),
      (err: unknown) => {
        assert.ok(err instanceof TcfsError);
        assert.equal(err.kind, "usage");
        assert.equal(err.exitCode, 2);
        assert.equal(err.message, `--at ${JSON.stringify(text)} is neither a time nor an age`);
        assert.match(err.hint!, /2026-12-03T08:00:00Z.*2h/);
        return true;
      },
      text,
    );
  }
});
