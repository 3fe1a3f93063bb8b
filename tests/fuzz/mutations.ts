/**
 * Hostile variations of valid inputs for the fuzz suite: byte-level damage, text with tokens a
 * parser treats specially, and structure-aware changes to JSON values. Every function draws
 * only from the `random` it is given, so a seed and a case number give the same input again.
 *
 * @module
 */

/** A source of numbers in [0, 1), as {@linkcode seededRandom} gives. */
export type Random = () => number;

/**
 * An integer in [0, n).
 *
 * @example
 * ```ts
 * const length = below(random, 512);
 * ```
 */
export function below(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/**
 * One of `items`.
 *
 * @example
 * ```ts
 * const method = pick(random, ["GET", "POST"]);
 * ```
 */
export function pick<T>(random: Random, items: readonly T[]): T {
  return items[below(random, items.length)];
}

/**
 * `size` random bytes.
 *
 * @example
 * ```ts
 * const garbage = randomBytes(seededRandom(1), 64);
 * ```
 */
export function randomBytes(random: Random, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = below(random, 256);
  return out;
}

/** Lengths a parser may get wrong: empty, one, powers of two and their neighbours. */
const EDGE_LENGTHS = [0, 1, 2, 7, 8, 31, 32, 33, 255, 256, 4095, 4096, 65_536];

/**
 * `bytes` damaged in 1–4 ways: bits flipped, bytes set to edge values, inserted, deleted,
 * a range duplicated, or the tail cut off.
 *
 * @example
 * ```ts
 * const damaged = mutateBytes(random, new TextEncoder().encode('{"format":2}'));
 * ```
 */
export function mutateBytes(random: Random, bytes: Uint8Array): Uint8Array {
  let out: Uint8Array = bytes.slice();
  for (let round = 1 + below(random, 4); round > 0; round--) {
    const at = out.length === 0 ? 0 : below(random, out.length);
    switch (below(random, 7)) {
      case 0:
        if (out.length > 0) out[at] ^= 1 << below(random, 8);
        break;
      case 1:
        if (out.length > 0) out[at] = pick(random, [0, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x2f]);
        break;
      case 2:
        out = concat(
          out.subarray(0, at),
          randomBytes(random, 1 + below(random, 8)),
          out.subarray(at),
        );
        break;
      case 3:
        out = concat(out.subarray(0, at), out.subarray(at + 1 + below(random, 16)));
        break;
      case 4: {
        const end = Math.min(out.length, at + 1 + below(random, 64));
        out = concat(out.subarray(0, end), out.subarray(at, end), out.subarray(end));
        break;
      }
      case 5:
        out = out.slice(0, below(random, out.length + 1));
        break;
      default: {
        // Little-endian fields (KDBX headers) take edge values: 0, all ones, 2^31.
        const value = pick(random, [0, 0xffffffff, 0x80000000, 0x7fffffff, 1]);
        for (let i = 0; i < 4 && at + i < out.length; i++) out[at + i] = (value >>> (8 * i)) & 0xff;
      }
    }
  }
  return out;
}

/** Text a parser may treat specially. */
const TEXT_TOKENS = [
  "\0",
  "\n",
  "\r\n",
  "\r",
  "\t",
  " ",
  '"',
  "'",
  "\\",
  "\\u0000",
  '"""',
  "'''",
  "#",
  "=",
  "[",
  "]",
  "[[",
  "]]",
  "{",
  "}",
  ":",
  "- ",
  "&a",
  "*a",
  "!!binary",
  "<<: *a",
  "${HOME}",
  "$(id)",
  "`id`",
  "export ",
  "..",
  "../",
  "/etc/passwd",
  "~",
  "__proto__",
  "constructor",
  "prototype",
  "1e999",
  "-1",
  "NaN",
  "inf",
  "-inf",
  "0x7fffffffffffffff",
  "9007199254740993",
  "1979-05-27T07:32:00Z",
  "\u{10ffff}",
  "\ud800",
  "\u202e",
  "\ufeff",
  "é",
];

/**
 * `text` with 1–4 tokens inserted, a range deleted or duplicated, or the tail cut off.
 *
 * @example
 * ```ts
 * const hostile = mutateText(random, '[sync]\nnamespace = "lab"\n');
 * ```
 */
export function mutateText(random: Random, text: string): string {
  let out = text;
  for (let round = 1 + below(random, 4); round > 0; round--) {
    const at = below(random, out.length + 1);
    switch (below(random, 5)) {
      case 0:
      case 1:
        out = out.slice(0, at) + pick(random, TEXT_TOKENS) + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at) + out.slice(at + 1 + below(random, 16));
        break;
      case 3: {
        const end = Math.min(out.length, at + 1 + below(random, 64));
        out = out.slice(0, end) + out.slice(at, end).repeat(1 + below(random, 8)) + out.slice(end);
        break;
      }
      default:
        out = out.slice(0, at);
    }
  }
  return out;
}

/**
 * A string of the shapes that break path and text handling.
 *
 * @example
 * ```ts
 * const path = hostileString(random); // "../x", "a\0b", "__proto__", 64 KiB of "x", …
 * ```
 */
export function hostileString(random: Random): string {
  switch (below(random, 8)) {
    case 0:
      return "x".repeat(pick(random, EDGE_LENGTHS) * pick(random, [1, 16]));
    case 1:
      return pick(random, ["..", "../x", "a/../../b", "/etc/passwd", "a//b", "./a", "a/."]);
    case 2:
      return pick(random, ["a\0b", "\0", "a\nb", "\u202e", "\ud800", "é/ü", "C:\\x", "a\\..\\b"]);
    case 3:
      return pick(random, ["NaN", "Infinity", "-0", "1e999", "null", "true", "0x10", ""]);
    case 4:
      return pick(random, ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]);
    case 5:
      return String.fromCharCode(...randomBytes(random, below(random, 40)));
    default:
      return pick(random, TEXT_TOKENS) + pick(random, TEXT_TOKENS);
  }
}

/**
 * A number of the kinds that break size, offset and counter handling.
 *
 * @example
 * ```ts
 * const size = hostileNumber(random); // -1, 2 ** 53, Number.MAX_VALUE, …
 * ```
 */
export function hostileNumber(random: Random): number {
  return pick(random, [
    -1,
    -0,
    0.5,
    2 ** 31,
    2 ** 32,
    2 ** 40,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    1e21,
  ]);
}

/** Marks the place of a nesting too deep to build as a value; see {@linkcode jsonText}. */
const DEEP = "\u0000deep-nesting\u0000";

/**
 * `value` (a parsed JSON value) changed in 1–3 places: a field deleted or added, a value
 * swapped for another type, a hostile string or number, a prototype key, or deep nesting.
 * Serialize the result with {@linkcode jsonText}.
 *
 * @example
 * ```ts
 * const text = jsonText(mutateJson(random, { format: 2, path: "a.txt" }));
 * ```
 */
export function mutateJson(random: Random, value: unknown): unknown {
  let out = structuredClone(value);
  for (let round = 1 + below(random, 3); round > 0; round--) {
    out = mutateNode(random, out, 0);
  }
  return out;
}

function mutateNode(random: Random, node: unknown, depth: number): unknown {
  const children = isContainer(node) ? Object.keys(node) : [];
  // Walk down towards a random node more often than changing one near the top.
  if (children.length > 0 && depth < 8 && random() < 0.6) {
    const key = pick(random, children);
    const container = node as Record<string, unknown>;
    const changed = mutateNode(random, container[key], depth + 1);
    if (changed === REMOVE) {
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
    } else {
      Object.defineProperty(container, key, {
        value: changed,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return node;
  }
  return replacement(random, node);
}

const REMOVE = Symbol("remove");

function replacement(random: Random, node: unknown): unknown {
  switch (below(random, 10)) {
    case 0:
      return REMOVE;
    case 1:
      return hostileString(random);
    case 2:
      return hostileNumber(random);
    case 3:
      return pick(random, [null, true, false, 0, "", [], {}]);
    case 4:
      return typeof node === "string" ? [node] : typeof node === "number" ? String(node) : null;
    case 5:
      return DEEP;
    case 6: {
      if (!isContainer(node) || Array.isArray(node)) return { [hostileString(random)]: node };
      // A prototype key as an own property, as JSON.parse would make it.
      const key = pick(random, ["__proto__", "constructor", "prototype", hostileString(random)]);
      const copy = { ...node };
      Object.defineProperty(copy, key, {
        value: pick(random, [{ polluted: true }, null, "x", 1]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return copy;
    }
    case 7:
      return Array.isArray(node) ? [...node, ...node, ...node] : [node, node];
    case 8:
      return typeof node === "string" && node.length < 10_000
        ? node.repeat(1 + below(random, 2000))
        : node;
    default:
      return typeof node === "number" ? -node : hostileNumber(random);
  }
}

function isContainer(node: unknown): node is Record<string, unknown> | unknown[] {
  return typeof node === "object" && node !== null;
}

/**
 * The JSON text of a mutated value, with deep nesting where {@linkcode mutateJson} put it.
 *
 * @example
 * ```ts
 * const text = jsonText(mutateJson(random, sample));
 * ```
 */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  const depth = 5000;
  return text.replaceAll(JSON.stringify(DEEP), "[".repeat(depth) + "]".repeat(depth));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The bytes of a JSON document derived from `sample`: structure-aware changes most often, then
 * damaged text and bytes, and sometimes pure random bytes.
 *
 * @example
 * ```ts
 * const body = hostileJson(random, { format: 2, path: "a.txt" });
 * ```
 */
export function hostileJson(random: Random, sample: unknown): Uint8Array {
  const encode = (text: string) => new TextEncoder().encode(text);
  const roll = random();
  if (roll < 0.55) return encode(jsonText(mutateJson(random, sample)));
  if (roll < 0.75) return encode(mutateText(random, JSON.stringify(sample)));
  if (roll < 0.92) return mutateBytes(random, encode(JSON.stringify(sample)));
  return randomBytes(random, below(random, 512));
}

/**
 * Text derived from `sample`: damaged text most often, then damaged bytes decoded leniently,
 * and sometimes random bytes.
 *
 * @example
 * ```ts
 * const toml = hostileText(random, '[sync]\nnamespace = "lab"\n');
 * ```
 */
export function hostileText(random: Random, sample: string): string {
  const roll = random();
  if (roll < 0.7) return mutateText(random, sample);
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (roll < 0.9) return decode(mutateBytes(random, new TextEncoder().encode(sample)));
  return decode(randomBytes(random, below(random, 512)));
}
