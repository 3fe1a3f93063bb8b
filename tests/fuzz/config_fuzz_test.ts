import assert from "node:assert/strict";
import { decodeFileSettings } from "../../core/config/config_file.ts";
import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("config", new URL("./targets/config_target.ts", import.meta.url));

// Found by seed 3658321958, case 4879 (a long run): a megabyte-long name outside any section
// made the "did you mean" suggestion run for minutes (an edit distance per known key, for
// each known key).
Deno.test("a megabyte-long unknown key or section is refused at once", () => {
  const name = "x".repeat(1 << 20);
  for (const table of [{ [name]: 1 }, { [name]: {} }, { sync: { [name]: 1 } }]) {
    const started = performance.now();
    assert.throws(() => decodeFileSettings(table, "config.toml", "/home/ada"), {
      kind: "config_invalid",
    });
    assert.ok(performance.now() - started < 1000, `refused in ${performance.now() - started} ms`);
  }
});
