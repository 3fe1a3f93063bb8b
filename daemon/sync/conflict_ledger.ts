/**
 * The conflicts this daemon has announced, so a conflict that every poll meets again is
 * announced (and counted) once, and again only after it was resolved.
 *
 * @module
 */

/** Conflicted paths (relative to the namespace), by namespace. */
export interface ConflictLedger {
  /** Records conflicts met; returns those not already recorded. */
  met(namespace: string, paths: readonly string[]): string[];
  /** Forgets a conflict once it is resolved. */
  resolved(namespace: string, path: string): void;
  /** The recorded conflicts of `namespace`, sorted. */
  pending(namespace: string): string[];
}

/**
 * Creates an empty ledger.
 *
 * @example
 * ```ts
 * const ledger = createConflictLedger();
 * ledger.met("default", ["a.txt"]); // ["a.txt"]
 * ledger.met("default", ["a.txt"]); // []
 * ```
 */
export function createConflictLedger(): ConflictLedger {
  const known = new Set<string>();
  const key = (namespace: string, path: string) => `${namespace}\0${path}`;
  return {
    met(namespace, paths) {
      const fresh = paths.filter((path) => !known.has(key(namespace, path)));
      for (const path of fresh) known.add(key(namespace, path));
      return fresh;
    },
    resolved: (namespace, path) => void known.delete(key(namespace, path)),
    pending: (namespace) =>
      [...known].filter((k) => k.startsWith(namespace + "\0"))
        .map((k) => k.slice(namespace.length + 1)).sort(),
  };
}
