/**
 * Reading a checkpoint a slice of versions at a time. A checkpoint holds every version of its
 * namespace: parsed whole, 100,000 versions took some hundreds of MB of heap as objects, when
 * their text is a few tens of MB. The object is opened whole (authenticated when sealed, its
 * zstd frame checked), its text kept as bytes, and its top level read by a scanner that only
 * finds where each value starts and ends; the versions are parsed and checked when a reader
 * asks for their slice.
 *
 * @module
 */

import type { FleetKeys } from "../crypto/fleet_keys.ts";
import type { FileVersion } from "../remote/file_version.ts";
import {
  checkCheckpointFields,
  checkJournalObject,
  type Checkpoint,
  checkVersions,
  corruptJournal,
  MAX_CHECKPOINT_RAW_BYTES,
  openJournalText,
} from "./journal_codec.ts";

/** Versions parsed at once: enough that parsing costs what it did whole, few enough to be small. */
export const CHECKPOINT_SLICE_VERSIONS = 2000;

/** A checkpoint whose fields are checked and whose versions are read on demand. */
export interface OpenedCheckpoint {
  key: string;
  /** Every field but the versions, checked as `decodeCheckpoint` checks them. */
  fields: Omit<Checkpoint, "versions">;
  /**
   * The versions in order, {@linkcode CHECKPOINT_SLICE_VERSIONS} at a time, each checked as
   * `decodeCheckpoint` checks it. Throws a `corrupt_journal` {@linkcode TcfsError} at the
   * slice holding the first bad one: a reader folds them all or none.
   */
  slices(): Generator<FileVersion[]>;
}

/**
 * Opens the checkpoint `stored`, read from `key`, for reading its versions a slice at a time.
 * It reads what `decodeCheckpoint` reads, and the same objects are refused, the damaged
 * version of one only when its slice is read.
 *
 * @throws {TcfsError} as `decodeCheckpoint`.
 *
 * @example
 * ```ts
 * const checkpoint = await openCheckpoint(await store.get(key), key, ctx.keys);
 * for (const versions of checkpoint.slices()) count += versions.length;
 * ```
 */
export async function openCheckpoint(
  stored: Uint8Array,
  key: string,
  keys: FleetKeys | undefined,
): Promise<OpenedCheckpoint> {
  const text = await openJournalText(stored, key, MAX_CHECKPOINT_RAW_BYTES, keys);
  const { fields, slices } = new TopLevel(text, key).read();
  checkCheckpointFields(checkJournalObject(fields, key), key);
  if (!slices) throw corruptJournal(key, "versions is not a list");
  return {
    key,
    fields: fields as unknown as Omit<Checkpoint, "versions">,
    *slices() {
      let first = 0;
      for (const [start, end] of slices) {
        const parsed = parse(`[${decode(text.subarray(start, end), key)}]`, key);
        yield checkVersions(parsed, key, first);
        first += (parsed as unknown[]).length;
      }
    },
  };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * The top level of a JSON object's text: its fields parsed, except `versions`, an array of
 * which only the byte ranges of its slices are found. The scanner trusts nothing: a range it
 * gets wrong is text that `JSON.parse` refuses, or a version that `checkVersions` refuses.
 */
class TopLevel {
  #text: Uint8Array;
  #key: string;
  #at = 0;

  constructor(text: Uint8Array, key: string) {
    this.#text = text;
    this.#key = key;
  }

  read(): { fields: Record<string, unknown>; slices?: [number, number][] } {
    // No prototype: a field named "__proto__" is a field like any other, as JSON.parse makes it.
    const fields: Record<string, unknown> = Object.create(null);
    let slices: [number, number][] | undefined;
    this.#expect(OPEN_OBJECT);
    if (this.#peek() === CLOSE_OBJECT) this.#at++;
    else {
      for (;;) {
        if (this.#peek() !== QUOTE) throw this.#corrupt(`a name expected at byte ${this.#at}`);
        const name = parse(this.#slice(this.#at, this.#value()), this.#key) as string;
        this.#expect(COLON);
        if (Object.hasOwn(fields, name) || (name === "versions" && slices)) {
          throw this.#corrupt(`it names ${JSON.stringify(name)} twice`);
        }
        if (name === "versions" && this.#peek() === OPEN_ARRAY) slices = this.#array();
        else {
          const start = this.#at;
          fields[name] = parse(this.#slice(start, this.#value()), this.#key);
        }
        if (this.#next() === CLOSE_OBJECT) break;
        this.#back(COMMA);
      }
    }
    if (this.#peek() !== undefined) throw this.#corrupt("text follows its end");
    return { fields, slices };
  }

  /** The ranges of the array's slices of elements; the scan ends past its `]`. */
  #array(): [number, number][] {
    const slices: [number, number][] = [];
    this.#expect(OPEN_ARRAY);
    if (this.#peek() === CLOSE_ARRAY) {
      this.#at++;
      return slices;
    }
    let start = this.#at;
    let count = 0;
    for (;;) {
      if (count === CHECKPOINT_SLICE_VERSIONS) {
        count = 0;
        start = this.#at;
      }
      this.#value();
      count++;
      const end = this.#at;
      const next = this.#next();
      if (count === CHECKPOINT_SLICE_VERSIONS || next === CLOSE_ARRAY) slices.push([start, end]);
      if (next === CLOSE_ARRAY) return slices;
      this.#back(COMMA);
      this.#skipSpace();
    }
  }

  /** Skips one value from here (after white space); returns where it ends. */
  #value(): number {
    const text = this.#text;
    const first = this.#peek();
    let at = this.#at;
    if (first === QUOTE) at = stringEnd(text, at, this.#key);
    else if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
      for (let depth = 0;;) {
        if (at >= text.length) throw this.#corrupt("it ends inside a value");
        const c = text[at];
        if (c === QUOTE) {
          at = stringEnd(text, at, this.#key);
          continue;
        }
        at++;
        if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
        else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) break;
      }
    } else {
      // A number, true, false or null: JSON.parse judges it.
      while (at < text.length && !isDelimiter(text[at])) at++;
    }
    this.#at = at;
    return at;
  }

  /** The next byte that is not white space, without moving past it. */
  #peek(): number | undefined {
    this.#skipSpace();
    return this.#text[this.#at];
  }

  /** The next byte that is not white space, moving past it. */
  #next(): number | undefined {
    const c = this.#peek();
    this.#at++;
    return c;
  }

  #expect(byte: number): void {
    if (this.#next() !== byte) {
      throw this.#corrupt(`${String.fromCharCode(byte)} expected at byte ${this.#at - 1}`);
    }
  }

  /** Checks that the byte just read was `byte`. */
  #back(byte: number): void {
    if (this.#text[this.#at - 1] !== byte) {
      throw this.#corrupt(`${String.fromCharCode(byte)} expected at byte ${this.#at - 1}`);
    }
  }

  #skipSpace(): void {
    const text = this.#text;
    while (this.#at < text.length && isSpace(text[this.#at])) this.#at++;
  }

  #slice(start: number, end: number): string {
    return decode(this.#text.subarray(start, end), this.#key);
  }

  #corrupt(why: string) {
    return corruptJournal(this.#key, `it is not a journal object (${why})`);
  }
}

/** Where the string starting at `at` in `text` ends (past its closing quote). */
function stringEnd(text: Uint8Array, at: number, key: string): number {
  for (let from = at + 1;;) {
    const quote = text.indexOf(QUOTE, from);
    if (quote < 0) {
      throw corruptJournal(key, "it is not a journal object (it ends inside a string)");
    }
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDelimiter(c: number): boolean {
  return isSpace(c) || c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Uint8Array, key: string): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw corruptJournal(key, `it is not a journal object (${(err as Error).message})`);
  }
}

function parse(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw corruptJournal(key, `it is not a journal object (${(err as Error).message})`);
  }
}
