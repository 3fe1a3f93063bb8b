/**
 * A wrapper that keeps secret values out of messages, logs and JSON.
 *
 * @module
 */

/** What a {@linkcode Secret} prints as, wherever it is formatted. */
export const REDACTED = "<redacted>";

/**
 * A secret value (an S3 secret key, an age identity, a KDBX password).
 * String conversion, `JSON.stringify`, `console.log` and Deno/Node inspection
 * all print {@linkcode REDACTED}; only {@linkcode Secret.reveal} gives the value,
 * so a secret reaches a message only when someone writes `.reveal()` there.
 *
 * @example
 * ```ts
 * const key = new Secret("wJalrXUtnFEMI");
 * `${key}`;            // "<redacted>"
 * JSON.stringify({ key }); // '{"key":"<redacted>"}'
 * key.reveal();        // "wJalrXUtnFEMI"
 * ```
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  /** The secret value itself; pass it only to the code that needs it (an SDK client). */
  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return REDACTED;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}
