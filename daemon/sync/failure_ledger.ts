/**
 * The paths the daemon's pushes and pulls left out, so that each is logged once: a path a pull
 * cannot write (a name this filesystem takes for another's, a link on its way) fails again at
 * every retry, and its line would otherwise fill the log. A path is told again when its error
 * changes, or when it fails again after a run that covered it went through.
 *
 * @module
 */

import { isUnderRel } from "../../core/paths/remote_path.ts";
import type { PathFailure } from "../../core/sync/transfer_summary.ts";

/** Failures told so far, by namespace and direction. */
export interface FailureLedger {
  /**
   * Records the failures of one run in `direction` over `scopes` (paths relative to the
   * namespace, each with what is below it; "" is everything), forgets the paths in scope that
   * did not fail, and returns the failures not told before.
   */
  met(
    namespace: string,
    direction: "push" | "pull",
    scopes: readonly string[],
    failures: readonly PathFailure[],
  ): PathFailure[];
}

/**
 * Creates an empty ledger.
 *
 * @example
 * ```ts
 * const ledger = createFailureLedger();
 * const failure = { path: "d/README.md", error: "… was not pulled: …" };
 * ledger.met("default", "pull", [""], [failure]); // [failure]
 * ledger.met("default", "pull", [""], [failure]); // []
 * ```
 */
export function createFailureLedger(): FailureLedger {
  /** The error told for each path, by namespace and direction. */
  const told = new Map<string, Map<string, string>>();
  return {
    met(namespace, direction, scopes, failures) {
      const key = `${namespace}\0${direction}`;
      const errors = told.get(key) ?? new Map<string, string>();
      told.set(key, errors);
      const failing = new Set(failures.map((f) => f.path));
      for (const path of errors.keys()) {
        if (!failing.has(path) && scopes.some((scope) => isUnderRel(path, scope))) {
          errors.delete(path);
        }
      }
      const fresh = failures.filter((f) => errors.get(f.path) !== f.error);
      for (const f of fresh) errors.set(f.path, f.error);
      return fresh;
    },
  };
}
