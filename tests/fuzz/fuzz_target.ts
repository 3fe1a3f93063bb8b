/**
 * What a fuzz target is, and the rule every case is held to: the parser returns, or it throws a
 * `TcfsError` of a known kind. Anything else (another exception type, a kind not in
 * `TCFS_ERROR_KINDS`, an assertion the target makes about what parsed) is a finding.
 *
 * @module
 */

import { isTcfsErrorKind, TcfsError } from "../../core/errors.ts";
import type { Random } from "./mutations.ts";

/**
 * One parser of outside data, driven by generated inputs. A target module under
 * `tests/fuzz/targets/` exports one as `target`; `fuzz_worker.ts` runs it.
 */
export interface FuzzTarget<Input, Context = undefined> {
  /** Fixtures shared by all cases (a temp dir, a server, a valid sample); made once per run. */
  open?: () => Promise<Context>;
  /** Undoes {@linkcode open}. */
  close?: (context: Context) => Promise<void>;
  /** A case's input, drawn only from `random`, so a seed and a case number replay it. */
  input: (random: Random, context: Context) => Input | Promise<Input>;
  /**
   * Feeds `input` to the parser. Returning means it parsed (the target may assert things about
   * what it parsed); throwing must be a {@linkcode TcfsError} of a known kind.
   */
  run: (input: Input, context: Context) => unknown;
}

/**
 * Why a thrown value is a finding, or undefined when it is a `TcfsError` of a known kind.
 *
 * @example
 * ```ts
 * const problem = unexpectedFailure(new RangeError("Invalid array length"));
 * ```
 */
export function unexpectedFailure(err: unknown): string | undefined {
  if (err instanceof TcfsError) {
    if (isTcfsErrorKind(err.kind)) return undefined;
    return `a TcfsError of unknown kind ${JSON.stringify(err.kind)}: ${err.message}`;
  }
  if (err instanceof Error) {
    const stack = (err.stack ?? "").split("\n").slice(0, 8).join("\n");
    return `${err.name} instead of a TcfsError: ${stack || err.message}`;
  }
  return `a thrown ${typeof err} instead of a TcfsError: ${String(err)}`;
}

/**
 * A readable, bounded rendering of a case's input, for failure reports.
 *
 * @example
 * ```ts
 * describeInput(new TextEncoder().encode("{}")); // '2 bytes: "{}"'
 * ```
 */
export function describeInput(input: unknown, limit = 4000): string {
  const cut = (text: string) =>
    text.length > limit ? `${text.slice(0, limit)}… (${text.length} characters in all)` : text;
  if (input instanceof Uint8Array) {
    const text = new TextDecoder().decode(input.subarray(0, limit));
    return `${input.length} bytes: ${JSON.stringify(text)}`;
  }
  if (typeof input === "string") return cut(JSON.stringify(input));
  try {
    return cut(
      JSON.stringify(input, (_, v) => v instanceof Uint8Array ? describeInput(v, 400) : v) ?? "",
    );
  } catch {
    return cut(String(input));
  }
}
