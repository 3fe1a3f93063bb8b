/**
 * Registers a fuzz target as a Deno test: the target runs in a worker (`fuzz_worker.ts`) for
 * its share of the suite's time budget, and the test fails with the seed, the case number and
 * the input when a case throws anything but a known `TcfsError`, hangs, or grows memory past
 * the cap.
 *
 * - `TCFS_FUZZ_SEED` picks the run's seed (printed with every result; a fixed one by default,
 *   so CI tests the same cases every time); `TCFS_FUZZ_CASE` with it runs only that case. For a
 *   long exploring run, give a new seed and a bigger budget.
 * - `TCFS_FUZZ_BUDGET_MS` is the whole suite's budget (default 24 s), shared equally by the
 *   targets under `tests/fuzz/targets/`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { FuzzJob, FuzzOutcome } from "./fuzz_worker.ts";

const DEFAULT_BUDGET_MS = 24_000;
const DEFAULT_SEED = "20261203";
const CASE_TIMEOUT_MS = 5_000;
/** Loading a target's modules in the worker and opening its fixtures is not a hang. */
const STARTUP_GRACE_MS = 30_000;

/**
 * Registers the test `fuzz: <name>` for the target module `module`.
 *
 * @example
 * ```ts
 * fuzzTest("versions", new URL("./targets/version_target.ts", import.meta.url));
 * ```
 */
export function fuzzTest(name: string, module: URL): void {
  Deno.test(`fuzz: ${name}`, async () => {
    const seed = Number(
      Deno.env.get("TCFS_FUZZ_SEED") ?? DEFAULT_SEED,
    );
    const onlyCase = Deno.env.get("TCFS_FUZZ_CASE");
    const budgetMs = Number(Deno.env.get("TCFS_FUZZ_BUDGET_MS") ?? DEFAULT_BUDGET_MS) /
      targetCount(module);
    const job = {
      module: module.href,
      seed,
      budgetMs,
      caseTimeoutMs: CASE_TIMEOUT_MS,
      ...(onlyCase !== undefined && { only: { index: Number(onlyCase), describe: false } }),
    };
    const outcome = await runFuzzTarget(job);
    const replay = `replay: TCFS_FUZZ_SEED=${seed} TCFS_FUZZ_CASE=${
      "index" in outcome ? outcome.index : "<n>"
    }`;
    if ("done" in outcome && outcome.done) {
      console.log(`fuzz ${name}: seed ${seed}, ${outcome.cases} cases`, outcome.kinds);
      return;
    }
    const failure = outcome as Extract<FuzzOutcome, { done: false }>;
    throw new Error(
      `fuzz ${name}: case ${failure.index} of seed ${seed}: ${failure.problem}\n` +
        `input: ${failure.input}\n${replay}`,
    );
  });
}

/** The number of targets sharing the budget: the modules under `tests/fuzz/targets/`. */
function targetCount(module: URL): number {
  const dir = fileURLToPath(new URL(".", module));
  return [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith("_target.ts"))
    .length;
}

/** A run of a target, as {@linkcode runFuzzTarget} takes it. */
export type FuzzRun = Omit<FuzzJob, "progress">;

/**
 * Runs a target in a worker, ending it when a case stops beating the heartbeat; the outcome
 * names the first case that failed, with its input.
 *
 * @example
 * ```ts
 * const outcome = await runFuzzTarget({ module, seed: 1, budgetMs: 1000, caseTimeoutMs: 5000 });
 * ```
 */
export async function runFuzzTarget(request: FuzzRun): Promise<FuzzOutcome> {
  const progress = new SharedArrayBuffer(8);
  const beats = new Int32Array(progress);
  const worker = new Worker(new URL("./fuzz_worker.ts", import.meta.url), { type: "module" });
  const outcome = Promise.withResolvers<FuzzOutcome>();
  worker.onmessage = (message: MessageEvent<FuzzOutcome>) => outcome.resolve(message.data);
  worker.onerror = (event) => {
    event.preventDefault();
    outcome.reject(new Error(`the fuzz worker failed: ${event.message}`));
  };
  let lastBeat = -1;
  let lastChange = performance.now();
  const watchdog = setInterval(() => {
    const beat = Atomics.load(beats, 1);
    const now = performance.now();
    if (beat !== lastBeat) {
      lastBeat = beat;
      lastChange = now;
      return;
    }
    const allowed = beat === 0 ? STARTUP_GRACE_MS : request.caseTimeoutMs * 2;
    if (now - lastChange > allowed) {
      const index = Atomics.load(beats, 0);
      outcome.resolve({
        done: false,
        index,
        input: "(described below)",
        problem: `the case did not finish within ${Math.round(allowed)} ms (a synchronous hang)`,
      });
    }
  }, 100);
  worker.postMessage({ ...request, progress } satisfies FuzzJob);
  try {
    const result = await outcome.promise;
    if (!("done" in result) || result.done || result.input !== "(described below)") return result;
    return { ...result, input: await describeCase(request, result.index) };
  } finally {
    clearInterval(watchdog);
    worker.terminate();
  }
}

/** The input of case `index`, made again in a fresh worker after a hang. */
async function describeCase(request: FuzzRun, index: number): Promise<string> {
  const outcome = await runFuzzTarget({ ...request, only: { index, describe: true } });
  return "described" in outcome ? outcome.described : "(could not be described)";
}
