import assert from "node:assert/strict";
import { runFuzzTarget } from "./fuzz_test_runner.ts";

const cases: [string, RegExp][] = [
  ["type-error", /TypeError instead of a TcfsError/],
  ["unknown-kind", /unknown kind "made_up"/],
  ["async-hang", /did not finish within 300 ms$/],
  ["sync-hang", /did not finish within 600 ms \(a synchronous hang\)/],
];

for (const [mode, problem] of cases) {
  Deno.test(`the fuzz harness reports a target's ${mode} with its case and input`, async () => {
    const module = new URL(`./harness/misbehaving_target.ts?mode=${mode}`, import.meta.url);
    const outcome = await runFuzzTarget({
      module: module.href,
      seed: 7,
      budgetMs: 5000,
      caseTimeoutMs: 300,
    });
    assert.ok("done" in outcome && !outcome.done, `a finding: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.index, 3, "the first misbehaving case");
    assert.match(outcome.problem, problem);
    assert.match(outcome.input, /^\d+$/, "the input, made again for a hang");
  });
}
