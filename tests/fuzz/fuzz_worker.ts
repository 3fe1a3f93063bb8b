/**
 * Runs one fuzz target in a worker, so that `fuzz_test_runner.ts` can end a case that hangs
 * even in synchronous code. Before each case it stores the case number and bumps a heartbeat
 * in a shared buffer; the runner terminates the worker when the heartbeat stalls.
 *
 * Messages in: {@linkcode FuzzJob}. Messages out: {@linkcode FuzzOutcome}.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { seededRandom } from "../faults/seeded_random.ts";
import { describeInput, type FuzzTarget, unexpectedFailure } from "./fuzz_target.ts";

/** What the runner asks the worker to do. */
export interface FuzzJob {
  /** URL of a module exporting `target`. */
  module: string;
  seed: number;
  /** Stop starting cases after this long. */
  budgetMs: number;
  /** A case that runs longer than this is a hang. */
  caseTimeoutMs: number;
  /** Run only this case, or only describe its input (for a report), instead of a whole run. */
  only?: { index: number; describe: boolean };
  /** [case number, heartbeat], shared with the runner. */
  progress: SharedArrayBuffer;
}

/** What the worker answers. */
export type FuzzOutcome =
  | { done: true; cases: number; kinds: Record<string, number> }
  | { done: false; index: number; input: string; problem: string }
  | { described: string };

/** Resident memory above which a case counts as an allocation beyond the caps. */
const RSS_CAP = 1536 * 2 ** 20;

/**
 * The seed of case `index` of a run with `seed`: every case has its own generator, so one
 * case replays without the ones before it.
 *
 * @example
 * ```ts
 * const random = seededRandom(caseSeed(seed, 326));
 * ```
 */
export function caseSeed(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  return Math.imul(h, 0x27d4eb2d) >>> 0;
}

self.onmessage = async (message: MessageEvent<FuzzJob>) => {
  self.postMessage(await runJob(message.data));
};

async function runJob(job: FuzzJob): Promise<FuzzOutcome> {
  const progress = new Int32Array(job.progress);
  const { target } = await import(job.module) as { target: FuzzTarget<unknown, unknown> };
  const context = await target.open?.();
  try {
    if (job.only?.describe) {
      const random = seededRandom(caseSeed(job.seed, job.only.index));
      return { described: describeInput(await target.input(random, context)) };
    }
    const kinds: Record<string, number> = {};
    const deadline = performance.now() + job.budgetMs;
    let index = job.only?.index ?? 0;
    let cases = 0;
    for (; job.only ? cases < 1 : performance.now() < deadline; index++, cases++) {
      Atomics.store(progress, 0, index);
      Atomics.add(progress, 1, 1);
      const input = await target.input(seededRandom(caseSeed(job.seed, index)), context);
      const problem = await runCase(target, input, context, job.caseTimeoutMs, kinds);
      if (problem) return { done: false, index, input: describeInput(input), problem };
    }
    return { done: true, cases, kinds };
  } finally {
    await target.close?.(context);
  }
}

async function runCase(
  target: FuzzTarget<unknown, unknown>,
  input: unknown,
  context: unknown,
  timeoutMs: number,
  kinds: Record<string, number>,
): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.resolve(target.run(input, context)), timeout]);
    if (outcome === "timeout") return `the case did not finish within ${timeoutMs} ms`;
    kinds.parsed = (kinds.parsed ?? 0) + 1;
  } catch (err) {
    const problem = unexpectedFailure(err);
    if (problem) return problem;
    const kind = (err as { kind: string }).kind;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  } finally {
    clearTimeout(timer);
  }
  const rss = Deno.memoryUsage().rss;
  if (rss > RSS_CAP) return `resident memory reached ${Math.round(rss / 2 ** 20)} MiB`;
  return undefined;
}
